// Roles: the built-in ones (admin, member, viewer) and custom ones, each a named set of
// permissions. Custom roles are defined here with roles:manage.
import { Badge, Button, Card, Checkbox, Group, Modal, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, errorMessage, unwrap, type Schemas } from '../api/client';
import { useSession, type Permission } from '../auth/session';
import { ErrorNote, Loading, PageHeader } from '../components/ui';

type Role = Schemas['RoleView'];
const NAME = /^[a-z0-9_-]{2,32}$/;

function RoleForm({ role, onDone }: { role: Role | null; onDone: () => void }) {
  const queryClient = useQueryClient();
  const { me } = useSession();
  const all = useQuery({ queryKey: ['permissions'], queryFn: () => unwrap(api.GET('/api/permissions')) });
  const [name, setName] = useState(role?.name ?? '');
  const [description, setDescription] = useState(role?.description ?? '');
  const [perms, setPerms] = useState<Permission[]>((role?.permissions ?? []) as Permission[]);
  const [touched, setTouched] = useState(false);
  const save = useMutation({
    mutationFn: () =>
      role?.id != null
        ? unwrap(api.PATCH('/api/roles/{id}', { params: { path: { id: role.id } }, body: { description: description || null, permissions: perms } }))
        : unwrap(api.POST('/api/roles', { body: { name, description: description || null, permissions: perms } })),
    onSuccess: (r) => {
      void queryClient.invalidateQueries({ queryKey: ['roles'] });
      notifications.show({ color: 'green', message: `Role ${r.name} saved` });
      onDone();
    },
  });
  const problem = role ? null : NAME.test(name) ? (['admin', 'member', 'viewer'].includes(name) ? 'A built-in role has this name' : null) : '2 to 32 characters: a-z, 0-9, _ and -';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!problem) save.mutate();
  };
  const mine = new Set(me?.permissions ?? []);
  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="sm">
        <ErrorNote error={save.error} title="Not saved" />
        <TextInput label="Name" required disabled={role !== null} description={role ? 'Fixed once created' : undefined} value={name} onChange={(e) => setName(e.currentTarget.value.trim())} error={touched && problem} />
        <TextInput label="Description" value={description} maxLength={200} onChange={(e) => setDescription(e.currentTarget.value)} />
        <Checkbox.Group label="Permissions" value={perms} onChange={(v) => setPerms(v as Permission[])}>
          <SimpleGrid cols={{ base: 1, sm: 2 }} mt="xs" spacing="xs">
            {(all.data ?? []).map((p) => (
              <Checkbox
                key={p.name}
                value={p.name}
                disabled={!mine.has(p.name)}
                label={<Text size="sm" ff="monospace">{p.name}</Text>}
                description={p.description + (mine.has(p.name) ? '' : ' (you do not have it)')}
              />
            ))}
          </SimpleGrid>
        </Checkbox.Group>
        <Button type="submit" loading={save.isPending}>
          {role ? 'Save role' : 'Create role'}
        </Button>
      </Stack>
    </form>
  );
}

export default function Roles() {
  const { can } = useSession();
  const queryClient = useQueryClient();
  const roles = useQuery({ queryKey: ['roles'], queryFn: () => unwrap(api.GET('/api/roles')) });
  const [editing, setEditing] = useState<Role | 'new' | null>(null);
  const remove = useMutation({
    mutationFn: (id: number) => unwrap(api.DELETE('/api/roles/{id}', { params: { path: { id } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['roles'] }),
    onError: (e) => notifications.show({ color: 'red', title: 'Not deleted', message: errorMessage(e) }),
  });
  const writable = can('roles:manage');
  return (
    <>
      <PageHeader
        title="Roles"
        description="A role is a named set of permissions; each user has one. Changes apply to its users on their next request."
        actions={writable && <Button onClick={() => setEditing('new')}>Add role</Button>}
      />
      <ErrorNote error={roles.error} />
      {roles.isPending ? (
        <Loading />
      ) : (
        <SimpleGrid cols={{ base: 1, md: 2, xl: 3 }}>
          {roles.data?.map((r) => (
            <Card withBorder key={r.name} data-testid="role">
              <Group justify="space-between" mb={4}>
                <Title order={2} size="h4">
                  {r.name}
                </Title>
                {r.builtin ? <Badge variant="light">built-in</Badge> : <Badge variant="light" color="grape">custom</Badge>}
              </Group>
              {r.description && (
                <Text size="sm" c="dimmed" mb="xs">
                  {r.description}
                </Text>
              )}
              <Group gap={4}>
                {r.permissions.map((p) => (
                  <Badge key={p} variant="outline" size="sm" tt="none">
                    {p}
                  </Badge>
                ))}
                {r.permissions.length === 0 && <Text size="sm">No permissions</Text>}
              </Group>
              {writable && !r.builtin && r.id != null && (
                <Group mt="sm" gap="xs">
                  <Button size="xs" variant="light" onClick={() => setEditing(r)}>
                    Edit
                  </Button>
                  <Button
                    size="xs"
                    variant="subtle"
                    color="red"
                    onClick={() => {
                      if (r.id != null && window.confirm(`Delete the role ${r.name}?`)) remove.mutate(r.id);
                    }}
                  >
                    Delete
                  </Button>
                </Group>
              )}
            </Card>
          ))}
        </SimpleGrid>
      )}
      <Modal opened={editing !== null} onClose={() => setEditing(null)} title={editing === 'new' ? 'Add a role' : `Edit ${editing?.name ?? ''}`} size="lg">
        {editing !== null && <RoleForm role={editing === 'new' ? null : editing} onDone={() => setEditing(null)} />}
      </Modal>
    </>
  );
}
