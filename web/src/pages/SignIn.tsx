// Sign-in, and the password change forced after the first sign-in with a password someone
// else chose (the bootstrap password, or an admin's reset).
import { Alert, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { api, ApiError, errorMessage, unwrap } from '../api/client';
import { useSession } from '../auth/session';

const MIN_PASSWORD = 12;

function Card({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <Center mih="100vh" p="md">
      <Paper withBorder shadow="sm" p="xl" w="100%" maw={400}>
        <Stack gap="md">
          <Stack gap={0} align="center">
            <img src="/favicon.svg" alt="" width={40} height={40} />
            <Title order={1} size="h3" mt="xs">
              {title}
            </Title>
          </Stack>
          {children}
        </Stack>
      </Paper>
    </Center>
  );
}

function loginError(e: unknown): string {
  if (e instanceof ApiError && e.status === 401) {
    return 'Invalid username or password. After several failed attempts a username is locked for a few minutes; wait and try again.';
  }
  if (e instanceof ApiError && e.status === 429) {
    return 'Too many sign-in attempts. Wait a little and try again.';
  }
  return errorMessage(e);
}

export function SignIn() {
  const { signIn, notice } = useSession();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [touched, setTouched] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!username.trim() || !password) return;
    setBusy(true);
    setError(null);
    try {
      await signIn(username.trim(), password);
    } catch (err) {
      setError(loginError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card title="Sign in to Tollgate">
      {notice && !error && (
        <Alert color="blue" data-testid="session-notice">
          {notice}
        </Alert>
      )}
      {error && (
        <Alert color="red" role="alert" data-testid="login-error">
          {error}
        </Alert>
      )}
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Stack gap="sm">
          <TextInput
            label="Username"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.currentTarget.value)}
            error={touched && !username.trim() ? 'Enter your username' : null}
            data-autofocus
            required
          />
          <PasswordInput
            label="Password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.currentTarget.value)}
            error={touched && !password ? 'Enter your password' : null}
            required
          />
          <Button type="submit" loading={busy} fullWidth mt="xs">
            Sign in
          </Button>
        </Stack>
      </form>
    </Card>
  );
}

/** New password form, used both forced at sign-in and on the account page. */
export function PasswordForm({ onDone, submitLabel }: { onDone?: () => void; submitLabel: string }) {
  const { adopt } = useSession();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [touched, setTouched] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const problems = {
    current: !current ? 'Enter your current password' : null,
    next:
      next.length < MIN_PASSWORD
        ? `At least ${MIN_PASSWORD} characters`
        : next === current
          ? 'Choose a password different from the current one'
          : null,
    repeat: repeat !== next ? 'The two new passwords differ' : null,
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (problems.current || problems.next || problems.repeat) return;
    setBusy(true);
    setError(null);
    try {
      const tokens = await unwrap(
        api.POST('/api/auth/password', {
          body: { current_password: current, new_password: next },
          credentials: 'same-origin',
        }),
      );
      await adopt(tokens);
      setCurrent('');
      setNext('');
      setRepeat('');
      setTouched(false);
      onDone?.();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate>
      <Stack gap="sm">
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        <PasswordInput
          label="Current password"
          autoComplete="current-password"
          value={current}
          onChange={(e) => setCurrent(e.currentTarget.value)}
          error={touched && problems.current}
          required
        />
        <PasswordInput
          label="New password"
          description={`${MIN_PASSWORD} characters or more`}
          autoComplete="new-password"
          value={next}
          onChange={(e) => setNext(e.currentTarget.value)}
          error={touched && problems.next}
          required
        />
        <PasswordInput
          label="Repeat the new password"
          autoComplete="new-password"
          value={repeat}
          onChange={(e) => setRepeat(e.currentTarget.value)}
          error={touched && problems.repeat}
          required
        />
        <Button type="submit" loading={busy}>
          {submitLabel}
        </Button>
      </Stack>
    </form>
  );
}

export function ForcedPasswordChange() {
  const { me, signOut } = useSession();
  return (
    <Card title="Choose a new password">
      <Text size="sm">
        Signed in as <b>{me?.username}</b>. Your password was set by someone else (the first
        start, or an administrator&apos;s reset): choose your own before you go on.
      </Text>
      <PasswordForm submitLabel="Change password and continue" />
      <Button variant="subtle" color="gray" onClick={() => void signOut()}>
        Sign out
      </Button>
    </Card>
  );
}
