// Routes and the shell: a navigation that lists only what the user may see; every page
// beyond sign-in is its own chunk, loaded when first opened.
import { Anchor, AppShell, Burger, Button, Group, Menu, NavLink, ScrollArea, Stack, Text, Title, UnstyledButton } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { lazy, Suspense, type ReactNode } from 'react';
import { Navigate, NavLink as RouterLink, Route, Routes, useLocation } from 'react-router';
import { useSession, type Permission } from './auth/session';
import { Loading } from './components/ui';
import { ForcedPasswordChange, SignIn } from './pages/SignIn';

const Dashboard = lazy(() => import('./pages/Dashboard'));
const Providers = lazy(() => import('./pages/Providers'));
const ProviderDetail = lazy(() => import('./pages/ProviderDetail'));
const ClientKeys = lazy(() => import('./pages/ClientKeys'));
const ClientKeyDetail = lazy(() => import('./pages/ClientKeyDetail'));
const Logs = lazy(() => import('./pages/Logs'));
const LogDetail = lazy(() => import('./pages/LogDetail'));
const Prices = lazy(() => import('./pages/Prices'));
const ModelRoutes = lazy(() => import('./pages/ModelRoutes'));
const Users = lazy(() => import('./pages/Users'));
const Roles = lazy(() => import('./pages/Roles'));
const Audit = lazy(() => import('./pages/Audit'));
const Account = lazy(() => import('./pages/Account'));

interface Page {
  path: string;
  label: string;
  /** Shown with any of these. */
  needs: Permission[];
}

export const PAGES: Page[] = [
  { path: '/', label: 'Dashboard', needs: ['stats:read', 'stats:read_own'] },
  { path: '/providers', label: 'Providers', needs: ['providers:read'] },
  { path: '/client-keys', label: 'Client keys', needs: ['client_keys:read', 'client_keys:read_own'] },
  { path: '/logs', label: 'Logs', needs: ['logs:read', 'logs:read_own'] },
  { path: '/model-routes', label: 'Model routes', needs: ['providers:read'] },
  { path: '/prices', label: 'Prices', needs: ['prices:read'] },
  { path: '/users', label: 'Users', needs: ['users:manage'] },
  { path: '/roles', label: 'Roles', needs: ['roles:manage', 'users:manage'] },
  { path: '/audit', label: 'Audit', needs: ['audit:read'] },
  { path: '/account', label: 'Account', needs: [] },
];

function Guard({ needs, children }: { needs: Permission[]; children: ReactNode }) {
  const { can } = useSession();
  if (needs.length > 0 && !needs.some(can)) {
    return (
      <Stack py="xl" gap="xs" role="alert">
        <Title order={1} size="h3">
          Not available
        </Title>
        <Text c="dimmed">Your role does not allow this page.</Text>
        <Anchor component={RouterLink} to="/account">
          Go to your account
        </Anchor>
      </Stack>
    );
  }
  return <>{children}</>;
}

function Shell() {
  const { me, can, signOut } = useSession();
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();
  const visible = PAGES.filter((p) => p.needs.length === 0 || p.needs.some(can));
  const needs = (path: string) => PAGES.find((p) => p.path === path)?.needs ?? [];
  const page = (path: string, node: ReactNode) => <Guard needs={needs(path)}>{node}</Guard>;
  const home = visible[0]?.path ?? '/account';
  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <img src="/favicon.svg" alt="" width={24} height={24} />
            <Text fw={700}>Tollgate</Text>
          </Group>
          <Menu position="bottom-end" withinPortal>
            <Menu.Target>
              <UnstyledButton aria-label="Account menu" data-testid="account-menu">
                <Text size="sm" fw={500}>
                  {me?.username}{' '}
                  <Text span c="dimmed" size="xs">
                    ({me?.role})
                  </Text>
                </Text>
              </UnstyledButton>
            </Menu.Target>
            <Menu.Dropdown>
              <Menu.Item component={RouterLink} to="/account">
                Account
              </Menu.Item>
              <Menu.Item color="red" onClick={() => void signOut()}>
                Sign out
              </Menu.Item>
            </Menu.Dropdown>
          </Menu>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main navigation">
        <ScrollArea>
          {visible.map((p) => (
            <NavLink
              key={p.path}
              component={RouterLink}
              to={p.path}
              label={p.label}
              onClick={close}
              active={p.path === '/' ? location.pathname === '/' : location.pathname.startsWith(p.path)}
            />
          ))}
        </ScrollArea>
        <Button variant="subtle" color="gray" mt="auto" onClick={() => void signOut()}>
          Sign out
        </Button>
      </AppShell.Navbar>
      <AppShell.Main>
        <Suspense fallback={<Loading />}>
          <Routes>
            <Route path="/" element={can('stats:read') || can('stats:read_own') ? page('/', <Dashboard />) : <Navigate to={home} replace />} />
            <Route path="/providers" element={page('/providers', <Providers />)} />
            <Route path="/providers/:id" element={page('/providers', <ProviderDetail />)} />
            <Route path="/client-keys" element={page('/client-keys', <ClientKeys />)} />
            <Route path="/client-keys/:id" element={page('/client-keys', <ClientKeyDetail />)} />
            <Route path="/logs" element={page('/logs', <Logs />)} />
            <Route path="/logs/:id" element={page('/logs', <LogDetail />)} />
            <Route path="/model-routes" element={page('/model-routes', <ModelRoutes />)} />
            <Route path="/prices" element={page('/prices', <Prices />)} />
            <Route path="/users" element={page('/users', <Users />)} />
            <Route path="/roles" element={page('/roles', <Roles />)} />
            <Route path="/audit" element={page('/audit', <Audit />)} />
            <Route path="/account" element={<Account />} />
            <Route path="/login" element={<Navigate to={home} replace />} />
            <Route path="*" element={<Text py="xl">This page does not exist.</Text>} />
          </Routes>
        </Suspense>
      </AppShell.Main>
    </AppShell>
  );
}

export function App() {
  const { status, me } = useSession();
  if (status === 'loading') return <Loading label="Starting…" />;
  if (status === 'signed-out') return <SignIn />;
  if (me?.must_change_password) return <ForcedPasswordChange />;
  return <Shell />;
}
