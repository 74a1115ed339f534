// The signed-in user's account: password change, and the Ed25519 public keys terminal
// clients log in with (challenge and signature).
import { ActionIcon, Button, Card, Code, Group, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, errorMessage, unwrap } from '../api/client';
import { useSession } from '../auth/session';
import { Empty, ErrorNote, Loading, PageHeader, When } from '../components/ui';
import { PasswordForm } from './SignIn';

const BASE64_32 = /^[A-Za-z0-9+/]{43}=$/;

function PublicKeys() {
  const queryClient = useQueryClient();
  const keys = useQuery({ queryKey: ['public-keys'], queryFn: () => unwrap(api.GET('/api/auth/public-keys')) });
  const [name, setName] = useState('');
  const [key, setKey] = useState('');
  const [touched, setTouched] = useState(false);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['public-keys'] });
  const add = useMutation({
    mutationFn: () => unwrap(api.POST('/api/auth/public-keys', { body: { name: name.trim(), public_key: key.trim() } })),
    onSuccess: () => {
      setName('');
      setKey('');
      setTouched(false);
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (id: number) => unwrap(api.DELETE('/api/auth/public-keys/{id}', { params: { path: { id } } })),
    onSuccess: refresh,
    onError: (e) => notifications.show({ color: 'red', title: 'Not removed', message: errorMessage(e) }),
  });
  const problems = {
    name: !name.trim() || name.length > 64 ? '1 to 64 characters' : null,
    key: BASE64_32.test(key.trim()) ? null : 'The base64 of a 32-byte Ed25519 public key (44 characters)',
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!problems.name && !problems.key) add.mutate();
  };
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="xs">
        Public keys
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        Terminal clients sign in with an Ed25519 key pair instead of a password.
      </Text>
      {keys.isPending ? (
        <Loading />
      ) : keys.error ? (
        <ErrorNote error={keys.error} />
      ) : keys.data.length === 0 ? (
        <Empty title="No keys registered" />
      ) : (
        <Table.ScrollContainer minWidth={420}>
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Fingerprint</Table.Th>
                <Table.Th>Last used</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {keys.data.map((k) => (
                <Table.Tr key={k.id}>
                  <Table.Td>{k.name}</Table.Td>
                  <Table.Td>
                    <Code>{k.fingerprint}</Code>
                  </Table.Td>
                  <Table.Td>{k.last_used_at ? <When at={k.last_used_at} /> : 'never'}</Table.Td>
                  <Table.Td>
                    <ActionIcon variant="subtle" color="red" aria-label={`Remove the key ${k.name}`} onClick={() => remove.mutate(k.id)}>
                      ×
                    </ActionIcon>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <form onSubmit={submit} noValidate>
        <Stack gap="sm" mt="md">
          <ErrorNote error={add.error} title="Not added" />
          <TextInput label="Key name" value={name} onChange={(e) => setName(e.currentTarget.value)} error={touched && problems.name} />
          <TextInput label="Public key (base64)" ff="monospace" value={key} onChange={(e) => setKey(e.currentTarget.value)} error={touched && problems.key} />
          <Group>
            <Button type="submit" loading={add.isPending}>
              Add key
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

export default function Account() {
  const { me } = useSession();
  return (
    <>
      <PageHeader title="Account" description={`Signed in as ${me?.username ?? ''} (${me?.role ?? ''}).`} />
      <SimpleGrid cols={{ base: 1, lg: 2 }} spacing="lg">
        <Card withBorder>
          <Title order={2} size="h4" mb="sm">
            Change password
          </Title>
          <PasswordForm
            submitLabel="Change password"
            onDone={() => notifications.show({ color: 'green', message: 'Password changed; your other sessions ended' })}
          />
        </Card>
        <PublicKeys />
      </SimpleGrid>
    </>
  );
}
