// Client keys: the keys Tollgate issues to applications. Create (the key is shown once), and
// open one for its usage, limits, rotation and deletion.
import { Anchor, Badge, Button, Card, Modal, Table, Text } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { api, unwrap, type Schemas } from '../api/client';
import { useSession } from '../auth/session';
import { Empty, EnabledBadge, ErrorNote, Loading, PageHeader, SecretOnce } from '../components/ui';
import { fmtTime } from '../format';
import { ClientKeyForm, keyBody, keyDraft } from './clientKeyForm';
import { useProviders } from './Providers';

export default function ClientKeys() {
  const { can } = useSession();
  const queryClient = useQueryClient();
  const keys = useQuery({ queryKey: ['client-keys'], queryFn: () => unwrap(api.GET('/api/client-keys')) });
  const providers = useProviders();
  const [opened, { open, close }] = useDisclosure(false);
  const [created, setCreated] = useState<Schemas['CreatedClientKey'] | null>(null);
  const canCreate = can('client_keys:write') || can('client_keys:write_own');
  const providerName = (id: number) => providers.data?.find((p) => p.id === id)?.name ?? `#${id}`;
  const done = () => {
    close();
    setCreated(null);
  };
  return (
    <>
      <PageHeader
        title="Client keys"
        description="Keys your applications use with the proxy, each bound to a provider and a pool of its credentials."
        actions={canCreate && <Button onClick={open}>Create client key</Button>}
      />
      <ErrorNote error={keys.error} />
      {keys.isPending ? (
        <Loading />
      ) : keys.data?.length === 0 ? (
        <Empty title="No client keys">Create one and give it to an application instead of a provider key.</Empty>
      ) : (
        <Card withBorder padding={0}>
          <Table.ScrollContainer minWidth={640}>
            <Table highlightOnHover verticalSpacing="sm">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Key</Table.Th>
                  <Table.Th>Provider</Table.Th>
                  <Table.Th>Limits</Table.Th>
                  <Table.Th>Expires</Table.Th>
                  <Table.Th>Status</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {keys.data?.map((k) => {
                  const limits = [k.rpm && `${k.rpm}/min`, k.rpd && `${k.rpd}/day`, k.budget && `budget ${k.budget}`].filter(Boolean);
                  return (
                    <Table.Tr key={k.id}>
                      <Table.Td>
                        <Anchor component={Link} to={`/client-keys/${k.id}`} fw={600}>
                          {k.name}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>
                        <Text ff="monospace" size="sm">
                          {k.key_prefix}…
                        </Text>
                      </Table.Td>
                      <Table.Td>{k.provider_ids.map(providerName).join(', ')}</Table.Td>
                      <Table.Td>
                        <Text size="sm">{limits.length ? limits.join(', ') : 'none'}</Text>
                      </Table.Td>
                      <Table.Td>{k.expires_at ? fmtTime(k.expires_at) : 'never'}</Table.Td>
                      <Table.Td>
                        {k.expires_at && new Date(k.expires_at) < new Date() ? (
                          <Badge color="red" variant="light">
                            Expired
                          </Badge>
                        ) : (
                          <EnabledBadge enabled={k.enabled} />
                        )}
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Card>
      )}
      <Modal opened={opened} onClose={done} title={created ? `Client key ${created.name}` : 'Create a client key'} size="lg">
        {created ? (
          <>
            <SecretOnce label="This key" secret={created.key} />
            <Button mt="md" onClick={done}>
              Done
            </Button>
          </>
        ) : (
          <ClientKeyForm
            initial={keyDraft()}
            isNew
            submitLabel="Create key"
            onSubmit={async (d, withLimits) => {
              const body = { ...keyBody(d, withLimits), provider_id: d.provider_id ?? 0 };
              const key = await unwrap(api.POST('/api/client-keys', { body: body as Schemas['CreateClientKey'] }));
              setCreated(key);
              await queryClient.invalidateQueries({ queryKey: ['client-keys'] });
            }}
          />
        )}
      </Modal>
    </>
  );
}
