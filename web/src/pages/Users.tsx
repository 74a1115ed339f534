// Users: create, change role, disable, reset password (the user must then choose their own),
// delete. Needs users:manage; nobody grants a role with permissions they lack.
import { Badge, Button, Card, Checkbox, Group, Modal, PasswordInput, Select, Stack, Switch, Table, Text, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, errorMessage, unwrap, type Schemas } from '../api/client';
import { useSession } from '../auth/session';
import { Empty, ErrorNote, Loading, PageHeader, When } from '../components/ui';

type User = Schemas['UserView'];
const USERNAME = /^[A-Za-z0-9_.-]{3,64}$/;

function useRoles() {
  return useQuery({ queryKey: ['roles'], queryFn: () => unwrap(api.GET('/api/roles')) });
}

function CreateUser({ onDone }: { onDone: () => void }) {
  const queryClient = useQueryClient();
  const roles = useRoles();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<string>('member');
  const [mustChange, setMustChange] = useState(true);
  const [touched, setTouched] = useState(false);
  const create = useMutation({
    mutationFn: () =>
      unwrap(api.POST('/api/users', { body: { username, password, role, must_change_password: mustChange } })),
    onSuccess: (u) => {
      void queryClient.invalidateQueries({ queryKey: ['users'] });
      notifications.show({ color: 'green', message: `User ${u.username} created` });
      onDone();
    },
  });
  const problems = {
    username: USERNAME.test(username) ? null : '3 to 64 characters: letters, digits, _ . -',
    password: password.length >= 12 ? null : 'At least 12 characters',
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!problems.username && !problems.password) create.mutate();
  };
  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="sm">
        <ErrorNote error={create.error} title="Not created" />
        <TextInput label="Username" required value={username} onChange={(e) => setUsername(e.currentTarget.value.trim())} error={touched && problems.username} />
        <PasswordInput label="Initial password" required autoComplete="new-password" value={password} onChange={(e) => setPassword(e.currentTarget.value)} error={touched && problems.password} />
        <Select label="Role" allowDeselect={false} data={(roles.data ?? []).map((r) => r.name)} value={role} onChange={(v) => v && setRole(v)} />
        <Checkbox label="Must choose a new password at the first sign-in" checked={mustChange} onChange={(e) => setMustChange(e.currentTarget.checked)} />
        <Button type="submit" loading={create.isPending}>
          Create user
        </Button>
      </Stack>
    </form>
  );
}

function ResetPassword({ user, onDone }: { user: User; onDone: () => void }) {
  const [password, setPassword] = useState('');
  const [touched, setTouched] = useState(false);
  const reset = useMutation({
    mutationFn: () =>
      unwrap(api.PATCH('/api/users/{id}', { params: { path: { id: user.id } }, body: { password, must_change_password: true } })),
    onSuccess: () => {
      notifications.show({ color: 'green', message: `Password of ${user.username} reset; their sessions ended` });
      onDone();
    },
  });
  const problem = password.length >= 12 ? null : 'At least 12 characters';
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        setTouched(true);
        if (!problem) reset.mutate();
      }}
      noValidate
    >
      <Stack gap="sm">
        <Text size="sm">
          {user.username} is signed out everywhere and must choose their own password at the next sign-in.
        </Text>
        <ErrorNote error={reset.error} title="Not reset" />
        <PasswordInput label="Temporary password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.currentTarget.value)} error={touched && problem} />
        <Button type="submit" loading={reset.isPending}>
          Reset password
        </Button>
      </Stack>
    </form>
  );
}

export default function Users() {
  const { me } = useSession();
  const queryClient = useQueryClient();
  const users = useQuery({ queryKey: ['users'], queryFn: () => unwrap(api.GET('/api/users')) });
  const roles = useRoles();
  const [creating, setCreating] = useState(false);
  const [resetting, setResetting] = useState<User | null>(null);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['users'] });
  const patch = useMutation({
    mutationFn: ({ id, body }: { id: number; body: Schemas['UpdateUser'] }) =>
      unwrap(api.PATCH('/api/users/{id}', { params: { path: { id } }, body })),
    onSuccess: refresh,
    onError: (e) => notifications.show({ color: 'red', title: 'Not changed', message: errorMessage(e) }),
  });
  const remove = useMutation({
    mutationFn: (id: number) => unwrap(api.DELETE('/api/users/{id}', { params: { path: { id } } })),
    onSuccess: refresh,
    onError: (e) => notifications.show({ color: 'red', title: 'Not deleted', message: errorMessage(e) }),
  });
  return (
    <>
      <PageHeader title="Users" description="Who may sign in to this console and the API, and with which role." actions={<Button onClick={() => setCreating(true)}>Add user</Button>} />
      <ErrorNote error={users.error} />
      {users.isPending ? (
        <Loading />
      ) : users.data?.length === 0 ? (
        <Empty title="No users" />
      ) : (
        <Card withBorder padding={0}>
          <Table.ScrollContainer minWidth={720}>
            <Table verticalSpacing="sm">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Username</Table.Th>
                  <Table.Th>Role</Table.Th>
                  <Table.Th>Enabled</Table.Th>
                  <Table.Th>Created</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {users.data?.map((u) => {
                  const self = u.id === me?.id;
                  return (
                    <Table.Tr key={u.id}>
                      <Table.Td>
                        <Text fw={500}>{u.username}</Text>
                        {u.must_change_password && (
                          <Badge size="xs" color="yellow" variant="light">
                            must change password
                          </Badge>
                        )}
                      </Table.Td>
                      <Table.Td>
                        <Select
                          aria-label={`Role of ${u.username}`}
                          size="xs"
                          w={140}
                          allowDeselect={false}
                          disabled={self}
                          data={(roles.data ?? []).map((r) => r.name)}
                          value={u.role}
                          onChange={(v) => v && v !== u.role && patch.mutate({ id: u.id, body: { role: v } })}
                        />
                      </Table.Td>
                      <Table.Td>
                        <Switch
                          aria-label={`${u.username} enabled`}
                          checked={u.enabled}
                          disabled={self}
                          onChange={(e) => patch.mutate({ id: u.id, body: { enabled: e.currentTarget.checked } })}
                        />
                      </Table.Td>
                      <Table.Td>
                        <When at={u.created_at} />
                      </Table.Td>
                      <Table.Td>
                        <Group gap={4} justify="flex-end" wrap="nowrap">
                          <Button size="xs" variant="subtle" onClick={() => setResetting(u)}>
                            Reset password
                          </Button>
                          {!self && (
                            <Button
                              size="xs"
                              variant="subtle"
                              color="red"
                              onClick={() => {
                                if (window.confirm(`Delete ${u.username}? Their client keys stay, without an owner.`)) remove.mutate(u.id);
                              }}
                            >
                              Delete
                            </Button>
                          )}
                        </Group>
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Card>
      )}
      <Modal opened={creating} onClose={() => setCreating(false)} title="Add a user">
        <CreateUser onDone={() => setCreating(false)} />
      </Modal>
      <Modal opened={resetting !== null} onClose={() => setResetting(null)} title={`Reset the password of ${resetting?.username ?? ''}`}>
        {resetting && <ResetPassword user={resetting} onDone={() => setResetting(null)} />}
      </Modal>
    </>
  );
}
