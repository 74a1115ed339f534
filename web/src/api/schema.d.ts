// Generated from the OpenAPI document of the real binary by scripts/gen-api.mjs.
// Do not edit: run `npm run gen:api` after changing the API.
export interface paths {
    "/api/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The audit trail, newest first (admin only). */
        get: operations["audit_list"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/challenge": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A single-use nonce for key-pair login, issued for any well-formed username. Counted against
         *     the same per-address and per-username attempts as logins; a username keeps at most
         *     `admin.challenges_per_username` live challenges (a new one replaces the oldest) and all
         *     together at most `admin.challenges_max`.
         */
        get: operations["auth_challenge"];
        put?: never;
        /**
         * Key-pair login: the nonce from `GET /api/auth/challenge` signed with one of the user's
         *     registered Ed25519 keys.
         */
        post: operations["auth_challenge_login"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/login": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Password login. A wrong password, an unknown or disabled user and a locked-out username all
         *     get the same 401. Attempts are limited per client address and per username
         *     (`admin.login_per_*_per_minute`), and password checks run a few at a time
         *     (`admin.password_check_slots`): past either, 429 with `Retry-After`. Failed logins are
         *     counted, not audited one by one; the failure that locks a username is audited as `lockout`.
         */
        post: operations["auth_login"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/logout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Ends the login the refresh token (from the body, else the cookie) belongs to, and clears
         *     the cookie.
         */
        post: operations["auth_logout"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/logout-all": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Ends every session of the caller, this one included. */
        post: operations["auth_logout_all"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's own account, with the permissions the console shows its pages by. */
        get: operations["auth_me"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/password": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Changes the caller's password and ends their other sessions; answers with a fresh pair. */
        post: operations["auth_change_password"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/public-keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's registered public keys. */
        get: operations["auth_list"];
        put?: never;
        /** Registers an Ed25519 public key for key-pair login, given as base64 or as an OpenSSH line. */
        post: operations["auth_create"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/public-keys/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Removes one of the caller's keys. Another user's key answers 404, like a missing one. */
        delete: operations["auth_delete"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/refresh": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Exchanges a refresh token (from the body, else the cookie) for a new pair; the old refresh
         *     token stops working, and presenting it again ends that login.
         */
        post: operations["auth_refresh"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/client-keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Client keys: all of them for an admin, a member's own otherwise. */
        get: operations["client_keys_list"];
        put?: never;
        /** Issues a client key owned by the caller; the key itself is in this answer only. */
        post: operations["client_keys_create"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/client-keys/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One client key with its current usage. Another member's key answers 404. */
        get: operations["client_keys_get"];
        put?: never;
        post?: never;
        /** Deletes a client key. Another member's key answers 404. */
        delete: operations["client_keys_delete"];
        options?: never;
        head?: never;
        /** Changes a client key; a limit set to null is removed. Another member's key answers 404. */
        patch: operations["client_keys_update"];
        trace?: never;
    };
    "/api/client-keys/{id}/oauth-clients": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The key's OAuth clients (secrets never shown). Another member's key answers 404. */
        get: operations["client_keys_list_clients"];
        put?: never;
        /**
         * Creates an OAuth2 client-credentials client for the key: `POST /oauth/token` on the proxy
         *     port exchanges its `client_id` and `client_secret` (shown once) for access tokens that act
         *     as this client key. Another member's key answers 404.
         */
        post: operations["client_keys_create_client"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/client-keys/{id}/oauth-clients/{client}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Deletes an OAuth client; every token issued to it stops working. Another member's key
         *     answers 404.
         */
        delete: operations["client_keys_delete_client"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/client-keys/{id}/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Issues a new secret for the key; the old one stops working at once. */
        post: operations["client_keys_rotate"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/client-keys/{id}/trends": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["stats_client_key_trends"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Liveness and dependencies: 503 when the database is unreachable (the instance cannot
         *     record or reconfigure); a Redis outage is reported but the instance keeps serving.
         */
        get: operations["health_health"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/jwt-issuers": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Trusted JWT issuers (admin only). */
        get: operations["jwt_issuers_list"];
        put?: never;
        /** Trusts a new issuer (admin only). */
        post: operations["jwt_issuers_create"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/jwt-issuers/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One issuer (admin only). */
        get: operations["jwt_issuers_get"];
        put?: never;
        post?: never;
        /** Stops trusting an issuer (admin only). */
        delete: operations["jwt_issuers_delete"];
        options?: never;
        head?: never;
        /** Changes an issuer (admin only). */
        patch: operations["jwt_issuers_update"];
        trace?: never;
    };
    "/api/logs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Request log rows, newest first; a member sees those of their own client keys only. */
        get: operations["logs_list"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/logs/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One request log row. A row of another member's key answers 404. */
        get: operations["logs_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/model-prices": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every price, by model and effective time (any signed-in user). */
        get: operations["model_prices_list"];
        put?: never;
        /** Adds a price (admin only). */
        post: operations["model_prices_create"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/model-prices/unpriced": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Models requested with token usage and no price (none now either); a member sees only
         *     their own keys' requests.
         */
        get: operations["model_prices_unpriced"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/model-prices/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One price (any signed-in user). */
        get: operations["model_prices_get"];
        /** Replaces a price (admin only). Requests already recorded keep the cost they had. */
        put: operations["model_prices_replace"];
        post?: never;
        /** Deletes a price (admin only). */
        delete: operations["model_prices_delete"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/model-routes": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every model route: the stored ones, then the config file's redirects. */
        get: operations["model_routes_list"];
        put?: never;
        /** Adds a model route; the proxy uses it from the next request. */
        post: operations["model_routes_create"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/model-routes/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One stored model route. */
        get: operations["model_routes_get"];
        put?: never;
        post?: never;
        /** Deletes a model route. */
        delete: operations["model_routes_delete"];
        options?: never;
        head?: never;
        /** Changes a model route. */
        patch: operations["model_routes_update"];
        trace?: never;
    };
    "/api/oauth/callback": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Where the provider sends the admin's browser back. No token needed: the single-use `state`
         *     is the proof. Answers an HTML page that says what happened.
         */
        get: operations["provider_keys_callback"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This document. */
        get: operations["meta_document"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/permissions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every permission a role can grant, with what it allows (any signed-in user). */
        get: operations["roles_permissions"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/provider-keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Provider keys, secrets masked (admin only). */
        get: operations["provider_keys_list"];
        put?: never;
        /** Adds a credential to a provider (admin only). */
        post: operations["provider_keys_create"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/provider-keys/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One provider key with its live health (admin only). */
        get: operations["provider_keys_get"];
        put?: never;
        post?: never;
        /** Deletes a provider key and takes it out of every pool (admin only). */
        delete: operations["provider_keys_delete"];
        options?: never;
        head?: never;
        /** Changes a provider key (admin only); a new secret or re-enabling resets its health. */
        patch: operations["provider_keys_update"];
        trace?: never;
    };
    "/api/provider-keys/{id}/health-check": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Runs one active health check on the key now (admin only). */
        post: operations["provider_keys_health_check"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/provider-keys/{id}/oauth/authorize": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Starts connecting an OAuth2 provider key: an authorize URL with a PKCE S256 challenge and
         *     a single-use `state` (admin only).
         */
        post: operations["provider_keys_authorize"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/provider-keys/{id}/trends": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["stats_provider_key_trends"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/providers": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every provider (any signed-in user). */
        get: operations["providers_list"];
        put?: never;
        /** Adds a provider (admin only). */
        post: operations["providers_create"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/providers/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One provider (any signed-in user). */
        get: operations["providers_get"];
        put?: never;
        post?: never;
        /** Deletes a provider with its keys and client keys (admin only). */
        delete: operations["providers_delete"];
        options?: never;
        head?: never;
        /** Changes a provider (admin only). */
        patch: operations["providers_update"];
        trace?: never;
    };
    "/api/providers/{id}/models": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The provider's model list as last fetched. */
        get: operations["providers_provider_models"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/providers/{id}/models/refresh": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Fetches the provider's model list now (with one of its credentials) and caches it. A
         *     failed fetch keeps the last list and is shown in `last_error`.
         */
        post: operations["providers_refresh_provider_models"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/roles": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Every role: the built-in ones first, then the custom ones by name (`roles:manage` or
         *     `users:manage`).
         */
        get: operations["roles_list"];
        put?: never;
        /** Defines a custom role (`roles:manage`). */
        post: operations["roles_create"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/roles/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One custom role (`roles:manage` or `users:manage`). */
        get: operations["roles_get"];
        put?: never;
        post?: never;
        /** Deletes a custom role that no user holds (`roles:manage`). */
        delete: operations["roles_delete"];
        options?: never;
        head?: never;
        /** Changes a custom role's description or permissions (`roles:manage`). */
        patch: operations["roles_update"];
        trace?: never;
    };
    "/api/stats/overview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["stats_overview"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/stats/top-keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["stats_top_keys"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/stats/top-models": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["stats_top_models"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/stats/top-providers": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["stats_top_providers"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/stats/trends": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["stats_trends"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/users": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every management account (`users:manage`). */
        get: operations["users_list"];
        put?: never;
        /** Creates an account (`users:manage`). */
        post: operations["users_create"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/users/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One account (`users:manage`). */
        get: operations["users_get"];
        put?: never;
        post?: never;
        /** Deletes an account (`users:manage`); not the caller's own, nor the last admin. */
        delete: operations["users_delete"];
        options?: never;
        head?: never;
        /** Changes an account (`users:manage`). Nobody changes their own role or disables themselves, and nobody manages a user (or grants a role) with permissions they lack themselves. */
        patch: operations["users_update"];
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** @description A non-negative decimal with at most 9 decimal places, as a string or a number */
        Amount: string | number;
        /** @description One try of one provider key within a request. */
        AttemptRecord: {
            /** @description The provider's own error code or type (`invalid_api_key`, `overloaded_error`, …). */
            code?: string | null;
            error_kind?: string | null;
            /** Format: int64 */
            latency_ms: number;
            /** @description The model asked of that provider (after `provider/` prefixes and model routes). */
            model?: string | null;
            /**
             * Format: int64
             * @description The provider tried (rows written before routing may lack it).
             */
            provider_id?: number | null;
            /** Format: int64 */
            provider_key_id: number;
            /** Format: int32 */
            status?: number | null;
            /** @description The request was translated into the provider's API format. */
            translated?: boolean;
        };
        AuditList: {
            items: components["schemas"]["AuditView"][];
            /** Format: int64 */
            page: number;
            /** Format: int64 */
            per_page: number;
            /** Format: int64 */
            total: number;
        };
        AuditView: {
            action: string;
            address?: string | null;
            /** Format: date-time */
            created_at: string;
            /**
             * @description The fields the request set (`fields`), short non-secret values (`values`), the answer's
             *     `status`, and anything the handler added.
             */
            details?: Record<string, never> | null;
            /** Format: int64 */
            id: number;
            resource: string;
            resource_id?: string | null;
            /** Format: int64 */
            user_id?: number | null;
            username?: string | null;
        };
        AuthorizeResponse: {
            /** @description Send the admin's browser here; the provider comes back to `/api/oauth/callback`. */
            authorize_url: string;
            /**
             * Format: date-time
             * @description The link (its `state`) is refused after this.
             */
            expires_at: string;
        };
        ChallengeAnswer: {
            nonce: string;
            /** @description Standard base64 of the 64-byte Ed25519 signature over the decoded nonce. */
            signature: string;
            username: string;
        };
        ChallengeView: {
            /** Format: date-time */
            expires_at: string;
            /** @description Standard base64 of 32 random bytes; sign the decoded bytes. */
            nonce: string;
        };
        /** @description One active health check of a provider key. */
        CheckResult: {
            /** Format: date-time */
            checked_at: string;
            error?: string | null;
            /** Format: int64 */
            latency_ms: number;
            ok: boolean;
            /** Format: int32 */
            status?: number | null;
        };
        /**
         * @description Body of POST (name, provider_id or provider_ids, and provider_key_ids required) and PATCH (every field
         *     optional; a limit set to null is removed). The OpenAPI document shows the POST form as
         *     [`CreateClientKey`].
         */
        ClientKeyInput: {
            /**
             * @description 1 to 100 model name patterns, or null for all: `*` matches any run of characters, `?`
             *     one character; 1 to 200 characters each, no blanks, no `**`, `[`, `]`, `{`, `}` or `\`.
             */
            allowed_models?: string[] | null;
            budget?: null | components["schemas"]["Amount"];
            cost_per_day?: null | components["schemas"]["Amount"];
            enabled?: boolean | null;
            /** Format: date-time */
            expires_at?: string | null;
            /** Format: int32 */
            max_concurrent?: number | null;
            /**
             * Format: int32
             * @description 0 to 10; 2 when left out.
             */
            max_retries?: number | null;
            /** @description 1 to 128 characters. */
            name?: string | null;
            /**
             * Format: int64
             * @description The provider the key is bound to: the same as `provider_ids: [provider_id]`. On PATCH
             *     it may only repeat the key's first provider.
             */
            provider_id?: number | null;
            /**
             * @description The providers the key reaches, in order (1 to 20, no repeats). Requests whose model
             *     names no provider (`provider/model`) or route go to the first that serves the model.
             */
            provider_ids?: number[] | null;
            /** @description Keys of those providers to pool. */
            provider_key_ids?: number[] | null;
            /** Format: int64 */
            rpd?: number | null;
            /**
             * Format: int32
             * @description Each limit: greater than 0, or null for none.
             */
            rpm?: number | null;
            /** @enum {string} */
            strategy?: "round_robin" | "weighted" | "health_best";
            /** Format: int64 */
            tpd?: number | null;
        };
        ClientKeyView: {
            allowed_models?: string[] | null;
            budget?: string | null;
            /** @description Decimal strings in the price currency. */
            cost_per_day?: string | null;
            /** Format: date-time */
            created_at: string;
            enabled: boolean;
            /** Format: date-time */
            expires_at?: string | null;
            /** Format: int64 */
            id: number;
            key_prefix: string;
            /** Format: int32 */
            max_concurrent?: number | null;
            /** Format: int32 */
            max_retries: number;
            name: string;
            /** Format: int64 */
            owner_id?: number | null;
            /**
             * Format: int64
             * @description The first of `provider_ids`.
             */
            provider_id: number;
            /** @description The providers the key reaches, in order (at least one). */
            provider_ids: number[];
            provider_key_ids: number[];
            /** Format: int64 */
            rpd?: number | null;
            /**
             * Format: int32
             * @description Requests per minute (sliding window); null = unlimited, likewise below.
             */
            rpm?: number | null;
            /** @enum {string} */
            strategy: "round_robin" | "weighted" | "health_best";
            /** Format: int64 */
            tpd?: number | null;
            /** Format: date-time */
            updated_at: string;
            usage?: null | components["schemas"]["UsageOut"];
        };
        /** @description A new client key (the body of `POST /api/client-keys`). */
        CreateClientKey: {
            /**
             * @description 1 to 100 model name patterns, or null for all: `*` matches any run of characters, `?`
             *     one character; 1 to 200 characters each, no blanks, no `**`, `[`, `]`, `{`, `}` or `\`.
             */
            allowed_models?: string[] | null;
            budget?: null | components["schemas"]["Amount"];
            cost_per_day?: null | components["schemas"]["Amount"];
            enabled?: boolean | null;
            /** Format: date-time */
            expires_at?: string | null;
            /** Format: int32 */
            max_concurrent?: number | null;
            /**
             * Format: int32
             * @description 0 to 10; 2 when left out.
             */
            max_retries?: number | null;
            name: string;
            /**
             * Format: int64
             * @description The provider the key is bound to: the same as `provider_ids: [provider_id]`. On PATCH
             *     it may only repeat the key's first provider.
             */
            provider_id?: number | null;
            /**
             * @description The providers the key reaches, in order (1 to 20, no repeats). Requests whose model
             *     names no provider (`provider/model`) or route go to the first that serves the model.
             */
            provider_ids?: number[] | null;
            provider_key_ids: number[];
            /** Format: int64 */
            rpd?: number | null;
            /**
             * Format: int32
             * @description Each limit: greater than 0, or null for none.
             */
            rpm?: number | null;
            /** @enum {string} */
            strategy?: "round_robin" | "weighted" | "health_best";
            /** Format: int64 */
            tpd?: number | null;
        };
        CreateOAuthClient: {
            /** @description 1 to 128 characters; "oauth client" when left out. */
            name?: string | null;
        };
        /** @description A price per million tokens; cache prices are 0 when left out. */
        CreatePrice: {
            cache_read_per_mtok?: null | components["schemas"]["Amount"];
            cache_write_per_mtok?: null | components["schemas"]["Amount"];
            /** @description Three-letter code; `USD` when left out. */
            currency?: string | null;
            /**
             * Format: date-time
             * @description Applies to requests from this time on; now when left out.
             */
            effective_from?: string | null;
            input_per_mtok: components["schemas"]["Amount"];
            /** @description 1 to 200 characters. */
            model: string;
            output_per_mtok: components["schemas"]["Amount"];
        };
        CreateProvider: {
            /** @enum {string} */
            api_format: "openai" | "anthropic" | "gemini";
            /** @enum {string} */
            auth_scheme?: "bearer" | "x-api-key" | "x-goog-api-key" | "api-key";
            /** @description `http://` or `https://` URL of the provider's API. */
            base_url: string;
            /**
             * Format: int64
             * @description 1 to 600000; 5000 when left out.
             */
            connect_timeout_ms?: number | null;
            /** @description false when left out. */
            drop_unsupported_params?: boolean | null;
            enabled?: boolean | null;
            /**
             * Format: int64
             * @description 1 to 600000; 120000 when left out.
             */
            first_byte_timeout_ms?: number | null;
            /**
             * @description Lower-case header names (at most 32); credentials, the caller's address and identity
             *     headers are refused.
             */
            forward_headers?: string[] | null;
            /** @description A path starting with `/`; the format's default when left out. */
            health_check_path?: string | null;
            /** @description A path starting with `/`; the format's own when left out. */
            models_path?: string | null;
            /** @description 1 to 64 characters, unique. */
            name: string;
            /** @description See [`ProviderView::path_template`]; starts with `/`, at most 512 characters. */
            path_template?: string | null;
            /** @description false when left out. */
            retry_after_send?: boolean | null;
        };
        CreateProviderKey: {
            enabled?: boolean | null;
            /** @description `api_key` (default) or `oauth2`. */
            kind?: string | null;
            /** @description 1 to 128 characters. */
            name: string;
            /** Format: int64 */
            provider_id: number;
            /**
             * Format: int32
             * @description Greater than 0; no cap when left out.
             */
            rpm?: number | null;
            /**
             * @description The provider credential; write-only (shown masked afterwards). Required for
             *     `api_key`, absent for `oauth2` (connect it with `/oauth/authorize`).
             */
            secret?: string | null;
            /**
             * Format: int64
             * @description Greater than 0; no cap when left out.
             */
            tpm?: number | null;
            /**
             * Format: int32
             * @description 0 to 1000; 1 when left out.
             */
            weight?: number | null;
        };
        CreatePublicKey: {
            /**
             * @description 1 to 64 characters. Optional when `public_key` is an OpenSSH line with a comment: the
             *     comment is the name then.
             */
            name?: string | null;
            /**
             * @description The Ed25519 public key: standard base64 of its 32 bytes, or an OpenSSH public-key line
             *     as in `id_ed25519.pub` (`ssh-ed25519 AAAA… comment`).
             * @example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHEVpHx0eBe1by922S7bm3lkZgTdgl5TaNMOo3dYOtQd ops@laptop
             */
            public_key: string;
        };
        CreateRole: {
            description?: string | null;
            /**
             * @description 2 to 32 characters from a-z, 0-9, `_` and `-`; not a built-in role's name. Fixed
             *     once created.
             */
            name: string;
            permissions: ("providers:read" | "providers:write" | "provider_keys:read" | "provider_keys:write" | "provider_keys:check" | "client_keys:read" | "client_keys:write" | "client_keys:read_own" | "client_keys:write_own" | "logs:read" | "logs:read_own" | "stats:read" | "stats:read_own" | "prices:read" | "prices:write" | "users:manage" | "roles:manage" | "audit:read" | "routes:write")[];
        };
        CreateUser: {
            enabled?: boolean | null;
            /** @description Ask for a new password at the first sign-in; false when left out. */
            must_change_password?: boolean | null;
            /** @description 12 to 1024 characters. */
            password: string;
            /**
             * @description A role name: admin, member, viewer or a custom role (see /api/roles)
             * @example member
             */
            role?: string;
            /** @description 3 to 64 characters from a-z, A-Z, 0-9, `_`, `.` and `-`. */
            username: string;
        };
        CreatedClientKey: components["schemas"]["ClientKeyView"] & {
            /** @description The only time the key is shown. */
            key: string;
        };
        CreatedOAuthClient: components["schemas"]["OAuthClientView"] & {
            /** @description Shown this once; stored only as a keyed hash. */
            client_secret: string;
        };
        /** @enum {string} */
        DatabaseStatus: "ok" | "unreachable";
        /** @description The body of every error answer of the management API. */
        ErrorBody: {
            error: components["schemas"]["ErrorDetail"];
        };
        ErrorDetail: {
            /**
             * @description Machine-readable: `bad_request`, `unauthorized`, `forbidden`, `not_found`, `conflict`,
             *     `invalid_value`, `rate_limited`, `method_not_allowed`, `unavailable` or
             *     `internal_error`.
             */
            code: string;
            /** @description With `invalid_value`: the field whose value is out of range. */
            field?: string | null;
            /** @description For people; names the offending field where there is one. */
            message: string;
        };
        HealthCheckResponse: components["schemas"]["CheckResult"] & {
            health: components["schemas"]["KeyHealthView"];
        };
        HealthView: {
            database: components["schemas"]["DatabaseStatus"];
            redis: components["schemas"]["RedisStatus"];
            status: components["schemas"]["Overall"];
        };
        /**
         * @description Body of POST (name, issuer, audience, algorithms and one of jwks_url / public_key_pem
         *     required) and PATCH (every field optional; null clears jwks_url or public_key_pem).
         */
        JwtIssuerInput: {
            /**
             * @description Asymmetric algorithms only, all of one key family: RS256, RS384, RS512, PS256, PS384,
             *     PS512, ES256, ES384, EdDSA.
             */
            algorithms?: string[] | null;
            audience?: string | null;
            /** @description `sub` when left out. */
            client_key_claim?: string | null;
            client_keys?: {
                [key: string]: number;
            } | null;
            /**
             * Format: int64
             * @description 0 to 3600; 60 when left out.
             */
            clock_skew_secs?: number | null;
            enabled?: boolean | null;
            issuer?: string | null;
            jwks_url?: string | null;
            name?: string | null;
            public_key_pem?: string | null;
        };
        JwtIssuerView: {
            algorithms: string[];
            /** @description The `aud` a token must carry (one of its audiences). */
            audience: string;
            /** @description The claim whose value selects the client key. */
            client_key_claim: string;
            /** @description Claim value → client key id. */
            client_keys: {
                [key: string]: number;
            };
            /**
             * Format: int64
             * @description Leeway for `exp` and `nbf`, in seconds.
             */
            clock_skew_secs: number;
            /** Format: date-time */
            created_at: string;
            enabled: boolean;
            /** Format: int64 */
            id: number;
            /** @description The exact `iss` a token must carry. */
            issuer: string;
            jwks_url?: string | null;
            name: string;
            /** @description A static public key (PEM), instead of a JWKS URL. */
            public_key_pem?: string | null;
            /** Format: date-time */
            updated_at: string;
        };
        /** @description A key's health as the API shows it: `disabled` when switched off, else the live state. */
        KeyHealthView: {
            /** Format: int32 */
            consecutive_failures: number;
            /** Format: double */
            error_rate: number;
            /** Format: int32 */
            in_flight: number;
            last_check?: null | components["schemas"]["CheckResult"];
            /** Format: double */
            latency_ms?: number | null;
            /** Format: date-time */
            next_retry_at?: string | null;
            reason?: string | null;
            /** Format: date-time */
            since?: string | null;
            /** @description `healthy`, `cooling_down`, `circuit_open`, `invalid` or `disabled`. */
            state: string;
        };
        LogList: {
            items: components["schemas"]["LogView"][];
            /**
             * Format: int64
             * @description Pass as `before` for the next (older) page; null when this page is the last.
             */
            next?: number | null;
            /** Format: int64 */
            page?: number | null;
            /** Format: int64 */
            per_page?: number | null;
            /**
             * Format: int64
             * @description Numbered pages only: rows matching the filters.
             */
            total?: number | null;
        };
        LogView: {
            /**
             * @description Every key tried, in order: `provider_key_id`, `provider_id`, `model` (as asked of that
             *     provider), `translated`, `status`, `error_kind`, `latency_ms`.
             */
            attempts: components["schemas"]["AttemptRecord"][];
            /** Format: int64 */
            cache_read_tokens: number;
            /** Format: int64 */
            cache_write_tokens: number;
            /** Format: int64 */
            client_key_id?: number | null;
            /** Format: int64 */
            completion_tokens: number;
            /** @description Decimal string; null when the model has no price (`priced` is then false). */
            cost?: string | null;
            /** Format: date-time */
            created_at: string;
            error_kind?: string | null;
            /** Format: int64 */
            id: number;
            /** Format: int64 */
            latency_ms: number;
            method: string;
            model?: string | null;
            partial: boolean;
            path: string;
            priced: boolean;
            /** Format: int64 */
            prompt_tokens: number;
            /** Format: int64 */
            provider_id?: number | null;
            /** Format: int64 */
            provider_key_id?: number | null;
            request_id: string;
            /**
             * @description The model the request was finally sent to (after a `provider/` prefix or a model
             *     route), when it differs from `model`.
             */
            resolved_model?: string | null;
            /** @description The model the answer named (priced in preference to `model`). */
            response_model?: string | null;
            /** @description The model route that chose the targets, if one did. */
            route?: string | null;
            /** Format: int32 */
            status: number;
            stream: boolean;
            /** @description The request and answer were translated between API formats (unified API). */
            translated: boolean;
            /** Format: int64 */
            ttfb_ms?: number | null;
            /**
             * @description Where the token figures came from: `provider` (its own usage report) or `estimated`
             *     (the answer ended before the provider reported; counted with a tokenizer). Null when
             *     the answer carried no usage.
             * @example provider
             */
            usage_source?: string | null;
        };
        LoginRequest: {
            password: string;
            /**
             * @description Put the refresh token only in an `HttpOnly` cookie instead of the body (the web
             *     console does).
             */
            refresh_cookie?: boolean | null;
            username: string;
        };
        /** @description The caller's account and what their role allows. */
        MeView: components["schemas"]["UserView"] & {
            permissions: ("providers:read" | "providers:write" | "provider_keys:read" | "provider_keys:write" | "provider_keys:check" | "client_keys:read" | "client_keys:write" | "client_keys:read_own" | "client_keys:write_own" | "logs:read" | "logs:read_own" | "stats:read" | "stats:read_own" | "prices:read" | "prices:write" | "users:manage" | "roles:manage" | "audit:read" | "routes:write")[];
        };
        /** @description Body of POST (`name` and `targets` required) and PATCH (every field optional). */
        ModelRouteInput: {
            /** @description 1 to 128 characters, no blanks; the model name clients ask for. */
            name?: string | null;
            /** @enum {string} */
            strategy?: "first_available" | "round_robin" | "random" | "weighted";
            /** @description 1 to 20 targets, none twice. */
            targets?: components["schemas"]["RouteTargetView"][] | null;
        };
        ModelRouteView: {
            /** Format: date-time */
            created_at?: string | null;
            /** @description Loaded from the config file (`[[redirect]]`): read-only here. */
            from_config: boolean;
            /**
             * Format: int64
             * @description Null for a redirect of the config file.
             */
            id?: number | null;
            name: string;
            /** @enum {string} */
            strategy: "first_available" | "round_robin" | "random" | "weighted";
            targets: components["schemas"]["RouteTargetView"][];
            /** Format: date-time */
            updated_at?: string | null;
        };
        OAuthClientView: {
            client_id: string;
            /** Format: int64 */
            client_key_id: number;
            /** Format: date-time */
            created_at: string;
            /** Format: int64 */
            id: number;
            name: string;
        };
        /** @description A provider's OAuth2 client (authorization code + PKCE S256). */
        OAuthConfigInput: {
            /** @description The provider's authorization endpoint (http or https). */
            authorize_url: string;
            /** @description How the client authenticates at the token endpoint: `basic` (default) or `post`. */
            client_auth?: string | null;
            client_id: string;
            /** @description Write-only. Left out: the stored one is kept; null: removed (a public client). */
            client_secret?: string | null;
            /** @description Extra parameters of the authorize URL (e.g. `access_type=offline`). */
            extra_params?: {
                [key: string]: string;
            };
            /**
             * @description Where the provider sends the browser back: this API's `/api/oauth/callback` as the
             *     browser reaches it.
             */
            redirect_uri: string;
            scopes?: string[];
            /** @description The provider's token endpoint (http or https). */
            token_url: string;
        };
        /** @description A provider's OAuth configuration as shown: the secret never is. */
        OAuthConfigView: {
            authorize_url: string;
            client_auth: string;
            client_id: string;
            extra_params: {
                [key: string]: string;
            };
            has_client_secret: boolean;
            redirect_uri: string;
            scopes: string[];
            token_url: string;
        };
        /** @description The state of an OAuth provider key's tokens (never the tokens). */
        OAuthStatusView: {
            connected: boolean;
            /**
             * Format: date-time
             * @description When the current access token expires.
             */
            expires_at?: string | null;
            /** @description The provider refused the refresh token: connect the key again. */
            needs_reconnect: boolean;
            reason?: string | null;
            /** @description `pending` (never connected), `connected` or `invalid`. */
            status: string;
        };
        /**
         * @description `degraded`: Redis is unreachable; `unavailable`: the database is.
         * @enum {string}
         */
        Overall: "ok" | "degraded" | "unavailable";
        OverviewView: components["schemas"]["TotalsView"] & {
            /**
             * Format: date-time
             * @description The window actually covered: whole hours, `from` rounded down, `to` rounded up.
             */
            from: string;
            /** Format: date-time */
            to: string;
        };
        PasswordChange: {
            current_password: string;
            /** @description 12 to 1024 characters. */
            new_password: string;
            /**
             * @description The caller's own refresh token: that login survives (rotated), the others end. Left
             *     out, the `tollgate_refresh` cookie's login survives (and the cookie is renewed).
             */
            refresh_token?: string | null;
        };
        PermissionView: {
            description: string;
            /** @enum {string} */
            name: "providers:read" | "providers:write" | "provider_keys:read" | "provider_keys:write" | "provider_keys:check" | "client_keys:read" | "client_keys:write" | "client_keys:read_own" | "client_keys:write_own" | "logs:read" | "logs:read_own" | "stats:read" | "stats:read_own" | "prices:read" | "prices:write" | "users:manage" | "roles:manage" | "audit:read" | "routes:write";
        };
        /** @description Prices per million tokens, as decimal strings. */
        PriceView: {
            cache_read_per_mtok: string;
            cache_write_per_mtok: string;
            currency: string;
            /** Format: date-time */
            effective_from: string;
            /** Format: int64 */
            id: number;
            input_per_mtok: string;
            model: string;
            output_per_mtok: string;
        };
        ProviderKeyView: {
            /** Format: date-time */
            created_at: string;
            enabled: boolean;
            health: components["schemas"]["KeyHealthView"];
            /** Format: int64 */
            id: number;
            /** @description `api_key` or `oauth2`. */
            kind: string;
            name: string;
            oauth?: null | components["schemas"]["OAuthStatusView"];
            /** Format: int64 */
            provider_id: number;
            /**
             * Format: int32
             * @description Requests and tokens per minute this key may take (null = no cap).
             */
            rpm?: number | null;
            secret_preview: string;
            /** Format: int64 */
            tpm?: number | null;
            /** Format: date-time */
            updated_at: string;
            /** Format: int32 */
            weight: number;
        };
        /** @description A provider's cached model list. */
        ProviderModelsView: {
            /**
             * Format: date-time
             * @description When a fetch was last tried.
             */
            checked_at?: string | null;
            /**
             * Format: date-time
             * @description When the list was last fetched successfully.
             */
            fetched_at?: string | null;
            /** @description Why the last try failed; null after a success. */
            last_error?: string | null;
            /** @description The model ids as the provider names them (empty until a fetch succeeded). */
            models: string[];
            /** Format: int64 */
            provider_id: number;
        };
        ProviderView: {
            /** @enum {string} */
            api_format: "openai" | "anthropic" | "gemini";
            /** @enum {string} */
            auth_scheme: "bearer" | "x-api-key" | "x-goog-api-key" | "api-key";
            base_url: string;
            /** Format: int64 */
            connect_timeout_ms: number;
            /** Format: date-time */
            created_at: string;
            /**
             * @description Unified API: parameters a translated request asks for that this provider cannot honour
             *     are dropped instead of refused with a 400.
             */
            drop_unsupported_params: boolean;
            enabled: boolean;
            /** Format: int64 */
            first_byte_timeout_ms: number;
            /** @description Request headers forwarded to this provider beyond its API format's allowlist. */
            forward_headers: string[];
            /** @description The active health check's path (the format's default when not set). */
            health_check_path: string;
            /** Format: int64 */
            id: number;
            /** @description Where the provider lists its models (under the base URL); the format's own when null. */
            models_path?: string | null;
            name: string;
            oauth?: null | components["schemas"]["OAuthConfigView"];
            /**
             * @description The upstream path in place of the client's: `{path}` is the client's path after its
             *     version segment (`/chat/completions`), `{model}` the model asked for; may end in a query
             *     (Azure OpenAI: `/openai/deployments/{model}{path}?api-version=2024-10-21`). Null: the
             *     client's path under the base URL.
             */
            path_template?: string | null;
            /**
             * @description Whether a request whose body was fully sent is sent again (to another credential) when
             *     the upstream times out or resets before answering. Off by default: the provider may
             *     have processed, and will bill, the first one.
             */
            retry_after_send: boolean;
            /** Format: date-time */
            updated_at: string;
        };
        PublicKeyView: {
            /** Format: date-time */
            created_at: string;
            /** @description First 16 hex digits of the key's SHA-256. */
            fingerprint: string;
            /** Format: int64 */
            id: number;
            /** Format: date-time */
            last_used_at?: string | null;
            name: string;
            /** @description Standard base64 of the 32-byte key (public, so shown). */
            public_key: string;
        };
        /** @enum {string} */
        RedisStatus: "disabled" | "ok" | "unreachable";
        RefreshRequest: {
            /**
             * @description Left out (or the whole body left out): the `tollgate_refresh` cookie is used, and the
             *     new refresh token goes back into it.
             */
            refresh_token?: string | null;
        };
        RoleView: {
            /** @description Built-in roles (admin, member, viewer) cannot be changed or deleted. */
            builtin: boolean;
            /** Format: date-time */
            created_at?: string | null;
            description?: string | null;
            /**
             * Format: int64
             * @description Null for a built-in role.
             */
            id?: number | null;
            name: string;
            permissions: ("providers:read" | "providers:write" | "provider_keys:read" | "provider_keys:write" | "provider_keys:check" | "client_keys:read" | "client_keys:write" | "client_keys:read_own" | "client_keys:write_own" | "logs:read" | "logs:read_own" | "stats:read" | "stats:read_own" | "prices:read" | "prices:write" | "users:manage" | "roles:manage" | "audit:read" | "routes:write")[];
            /** Format: date-time */
            updated_at?: string | null;
        };
        /** @description One target: a provider (by name) and the model to ask it for. */
        RouteTargetView: {
            /**
             * @description `provider/model`: the provider's name, a slash, the model (which may hold slashes of
             *     its own).
             * @example anthropic/claude-haiku-4-5
             */
            target: string;
            /**
             * Format: int32
             * @description 1 to 1000; the share of first picks under `weighted`. 1 when left out.
             */
            weight?: number;
        };
        /**
         * @description A session's token pair: send `access_token` as `Authorization: Bearer`; exchange the
         *     refresh token at `/api/auth/refresh` for a new pair before it runs out. The refresh token is
         *     in `refresh_token`, or, when the login asked for `refresh_cookie`, only in an `HttpOnly`
         *     cookie (`tollgate_refresh`, `Path=/api/auth`, `SameSite=Strict`).
         */
        TokenResponse: {
            access_token: string;
            /**
             * Format: int64
             * @description Seconds until `access_token` expires.
             */
            expires_in: number;
            /**
             * @description The user still has a password someone else chose (the first admin's bootstrap password,
             *     or an admin's reset): the console asks for a new one before anything else.
             */
            must_change_password: boolean;
            /** @description Absent when the refresh token went into the cookie. */
            refresh_token?: string | null;
            /** @example Bearer */
            token_type: string;
        };
        TokensView: {
            /** Format: int64 */
            cache_read: number;
            /** Format: int64 */
            cache_write: number;
            /** Format: int64 */
            completion: number;
            /** Format: int64 */
            prompt: number;
            /**
             * Format: int64
             * @description Every token used: prompt, completion, and cached tokens where the provider reports
             *     them apart from the prompt (Anthropic).
             */
            total: number;
        };
        TopKey: components["schemas"]["TotalsView"] & {
            /** Format: int64 */
            client_key_id: number;
            /** @description Null once the key is deleted. */
            name?: string | null;
        };
        TopList_TopKey: {
            by: string;
            /** Format: date-time */
            from: string;
            items: (components["schemas"]["TotalsView"] & {
                /** Format: int64 */
                client_key_id: number;
                /** @description Null once the key is deleted. */
                name?: string | null;
            })[];
            /** Format: date-time */
            to: string;
        };
        TopList_TopModel: {
            by: string;
            /** Format: date-time */
            from: string;
            items: (components["schemas"]["TotalsView"] & {
                model: string;
            })[];
            /** Format: date-time */
            to: string;
        };
        TopList_TopProvider: {
            by: string;
            /** Format: date-time */
            from: string;
            items: (components["schemas"]["TotalsView"] & {
                /** @description Null once the provider is deleted. */
                name?: string | null;
                /** Format: int64 */
                provider_id: number;
            })[];
            /** Format: date-time */
            to: string;
        };
        TopModel: components["schemas"]["TotalsView"] & {
            model: string;
        };
        TopProvider: components["schemas"]["TotalsView"] & {
            /** @description Null once the provider is deleted. */
            name?: string | null;
            /** Format: int64 */
            provider_id: number;
        };
        /** @description Totals over a set of requests; part of every stats answer. */
        TotalsView: {
            /** @description Decimal string, sum of priced requests' cost in the prices' currency. */
            cost: string;
            /**
             * Format: double
             * @description errors / requests; 0 without requests.
             */
            error_rate: number;
            /**
             * Format: int64
             * @description Requests answered with status >= 400 or that failed (timeout, cut stream, …).
             */
            errors: number;
            /**
             * Format: int64
             * @description Null without requests, likewise below.
             */
            latency_avg_ms?: number | null;
            /** Format: int64 */
            latency_max_ms?: number | null;
            /**
             * Format: int64
             * @description Upper bound: the upper edge of the histogram bucket holding the percentile, capped at
             *     `latency_max_ms`.
             */
            latency_p50_ms?: number | null;
            /** Format: int64 */
            latency_p95_ms?: number | null;
            /** Format: int64 */
            requests: number;
            tokens: components["schemas"]["TokensView"];
            /**
             * Format: int64
             * @description Time to first byte over the requests that reported one (hours rolled up by this
             *     version on); null without any. Percentiles are upper bounds like the latency's.
             */
            ttfb_avg_ms?: number | null;
            /** Format: int64 */
            ttfb_p50_ms?: number | null;
            /** Format: int64 */
            ttfb_p95_ms?: number | null;
            /**
             * Format: int64
             * @description Requests with token usage for a model that had no price (not included in `cost`).
             */
            unpriced_requests: number;
        };
        TrendPoint: components["schemas"]["TotalsView"] & {
            /** @description The local date of a daily point, in `limits.timezone`. */
            day?: string | null;
            /**
             * Format: date-time
             * @description Start of the hour or day (UTC).
             */
            start: string;
        };
        TrendView: {
            /** Format: date-time */
            from: string;
            granularity: string;
            /** @description Every hour or day of the range, oldest first, zeros where nothing happened. */
            points: components["schemas"]["TrendPoint"][];
            timezone: string;
            /** Format: date-time */
            to: string;
        };
        UnpricedModel: {
            /** Format: date-time */
            last_seen: string;
            model: string;
            /** Format: int64 */
            requests: number;
        };
        /** @description Every field optional. */
        UpdateProvider: {
            /** @enum {string} */
            auth_scheme?: "bearer" | "x-api-key" | "x-goog-api-key" | "api-key";
            base_url?: string | null;
            /** Format: int64 */
            connect_timeout_ms?: number | null;
            drop_unsupported_params?: boolean | null;
            enabled?: boolean | null;
            /** Format: int64 */
            first_byte_timeout_ms?: number | null;
            /** @description The list, or null for none. */
            forward_headers?: string[] | null;
            /** @description A path, or null for the format's default. */
            health_check_path?: string | null;
            /** @description A path, or null for the format's own. */
            models_path?: string | null;
            name?: string | null;
            oauth?: null | components["schemas"]["OAuthConfigInput"];
            /** @description The template, or null for the client's path as is. */
            path_template?: string | null;
            retry_after_send?: boolean | null;
        };
        /** @description Every field optional; a cap set to null is removed. */
        UpdateProviderKey: {
            enabled?: boolean | null;
            name?: string | null;
            /** Format: int32 */
            rpm?: number | null;
            secret?: string | null;
            /** Format: int64 */
            tpm?: number | null;
            /** Format: int32 */
            weight?: number | null;
        };
        UpdateRole: {
            /** @description Null clears it. */
            description?: string | null;
            permissions?: ("providers:read" | "providers:write" | "provider_keys:read" | "provider_keys:write" | "provider_keys:check" | "client_keys:read" | "client_keys:write" | "client_keys:read_own" | "client_keys:write_own" | "logs:read" | "logs:read_own" | "stats:read" | "stats:read_own" | "prices:read" | "prices:write" | "users:manage" | "roles:manage" | "audit:read" | "routes:write")[];
        };
        /** @description Every field optional. A new password or `enabled: false` ends the user's sessions. */
        UpdateUser: {
            enabled?: boolean | null;
            /** @description Set with a password reset so the user must choose their own at the next sign-in. */
            must_change_password?: boolean | null;
            password?: string | null;
            /**
             * @description A role name: admin, member, viewer or a custom role (see /api/roles)
             * @example member
             */
            role?: string;
            username?: string | null;
        };
        UsageOut: {
            /** @description The day the daily counters are for (limits.timezone). */
            day: string;
            day_cost: string;
            /** Format: int64 */
            day_requests: number;
            /** Format: int64 */
            day_tokens: number;
            expired: boolean;
            /** Format: int64 */
            in_flight: number;
            lifetime_spend: string;
            /**
             * Format: int64
             * @description Requests admitted in the last 60 seconds.
             */
            minute_requests: number;
        };
        UserView: {
            /** Format: date-time */
            created_at: string;
            enabled: boolean;
            /** Format: int64 */
            id: number;
            /** @description The console asks this user for a new password at sign-in. */
            must_change_password: boolean;
            /**
             * @description A role name: admin, member, viewer or a custom role (see /api/roles)
             * @example member
             */
            role: string;
            /** Format: date-time */
            updated_at: string;
            username: string;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    audit_list: {
        parameters: {
            query?: {
                user_id?: number;
                resource?: string;
                action?: string;
                from?: string;
                to?: string;
                /** @description From 1; 1 when left out. */
                page?: number;
                /** @description 1 to 500; 50 when left out. */
                per_page?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of entries */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuditList"];
                };
            };
            /** @description Malformed or out-of-range filter */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    auth_challenge: {
        parameters: {
            query: {
                username: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A fresh challenge */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ChallengeView"];
                };
            };
            /** @description Missing or malformed username */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Too many attempts from this address or for this username, or too many live challenges */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    auth_challenge_login: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ChallengeAnswer"];
            };
        };
        responses: {
            /** @description Logged in */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenResponse"];
                };
            };
            /** @description Malformed body */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Unknown, used or expired nonce, or a bad signature */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Too many attempts from this address or for this username */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    auth_login: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["LoginRequest"];
            };
        };
        responses: {
            /** @description Logged in */
            200: {
                headers: {
                    /** @description The refresh cookie, with `refresh_cookie: true` */
                    "set-cookie"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenResponse"];
                };
            };
            /** @description Malformed body */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Invalid username or password */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Too many attempts from this address or for this username, or every password check busy */
            429: {
                headers: {
                    /** @description Seconds to wait */
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    auth_logout: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** @description Optional: without it the `tollgate_refresh` cookie is used */
        requestBody?: {
            content: {
                "application/json": null | components["schemas"]["RefreshRequest"];
            };
        };
        responses: {
            /** @description Logged out */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Malformed body */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No, or an unknown, refresh token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    auth_logout_all: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every session ended */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    auth_me: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The caller */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MeView"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    auth_change_password: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PasswordChange"];
            };
        };
        responses: {
            /** @description Password changed */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenResponse"];
                };
            };
            /** @description Wrong current password, weak new password, or a refresh token that is not the caller's */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    auth_list: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The caller's keys */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PublicKeyView"][];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    auth_create: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreatePublicKey"];
            };
        };
        responses: {
            /** @description Registered */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PublicKeyView"];
                };
            };
            /** @description Invalid name or key, or no name for a key without a comment */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Key already registered */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    auth_delete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The key's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Malformed id */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such key of the caller's */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    auth_refresh: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** @description Optional: without it the `tollgate_refresh` cookie is used */
        requestBody?: {
            content: {
                "application/json": null | components["schemas"]["RefreshRequest"];
            };
        };
        responses: {
            /** @description A new token pair (the refresh token in the cookie when it came from the cookie) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenResponse"];
                };
            };
            /** @description Malformed body */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No, or an unknown, expired, revoked or reused refresh token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    client_keys_list: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The keys */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ClientKeyView"][];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    client_keys_create: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateClientKey"];
            };
        };
        responses: {
            /** @description Created; `key` is shown this once */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedClientKey"];
                };
            };
            /** @description Invalid or missing field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description A limit or `allowed_models` out of range; `error.field` names it */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    client_keys_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The client key's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The key and its usage */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ClientKeyView"];
                };
            };
            /** @description Malformed id */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such key visible to the caller */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    client_keys_delete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The client key's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Malformed id */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such key visible to the caller */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    client_keys_update: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The client key's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ClientKeyInput"];
            };
        };
        responses: {
            /** @description Updated */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ClientKeyView"];
                };
            };
            /** @description Invalid field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such key visible to the caller */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description A limit or `allowed_models` out of range; `error.field` names it */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    client_keys_list_clients: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The client key's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The clients */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["OAuthClientView"][];
                };
            };
            /** @description Malformed id */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such key visible to the caller */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    client_keys_create_client: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The client key's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateOAuthClient"];
            };
        };
        responses: {
            /** @description Created; `client_secret` is shown this once */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedOAuthClient"];
                };
            };
            /** @description Invalid field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such key visible to the caller */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    client_keys_delete_client: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The client key's id */
                id: number;
                /** @description The OAuth client's id (not its client_id) */
                client: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted; its tokens are revoked */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Malformed id */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such key or client visible to the caller */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    client_keys_rotate: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The client key's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Rotated; the new `key` is shown this once */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedClientKey"];
                };
            };
            /** @description Malformed id */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such key visible to the caller */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    stats_client_key_trends: {
        parameters: {
            query?: {
                granularity?: "hour" | "day";
                days?: number;
                model?: string;
            };
            header?: never;
            path: {
                /** @description The key's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TrendView"];
                };
            };
            /** @description Malformed or out-of-range parameter */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such client key (or not yours) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    health_health: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Serving */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HealthView"];
                };
            };
            /** @description The database is unreachable */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HealthView"];
                };
            };
        };
    };
    jwt_issuers_list: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The issuers */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JwtIssuerView"][];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission (client_keys:read to read, client_keys:write to change) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    jwt_issuers_create: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["JwtIssuerInput"];
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JwtIssuerView"];
                };
            };
            /** @description Invalid or missing field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission (client_keys:read to read, client_keys:write to change) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Name taken */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    jwt_issuers_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The issuer's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The issuer */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JwtIssuerView"];
                };
            };
            /** @description Malformed id */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission (client_keys:read to read, client_keys:write to change) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such issuer */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    jwt_issuers_delete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The issuer's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Malformed id */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission (client_keys:read to read, client_keys:write to change) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such issuer */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    jwt_issuers_update: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The issuer's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["JwtIssuerInput"];
            };
        };
        responses: {
            /** @description Updated */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JwtIssuerView"];
                };
            };
            /** @description Invalid field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission (client_keys:read to read, client_keys:write to change) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such issuer */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Name taken */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    logs_list: {
        parameters: {
            query?: {
                client_key_id?: number;
                provider_id?: number;
                /** @description The provider credential that served the request (its last attempt). */
                provider_key_id?: number;
                model?: string;
                /** @description Exact status. */
                status?: number;
                /** @description Status class: 2 for 2xx, 4 for 4xx, 5 for 5xx, … */
                status_class?: number;
                /** @description Only streams cut short (true) or only complete answers (false). */
                partial?: boolean;
                /** @description Error kind, e.g. `upstream_timeout`, `client_gone`. */
                error_kind?: string;
                /** @description Created at or after. */
                from?: string;
                /** @description Created before. */
                to?: string;
                /** @description Keyset cursor: rows with a smaller id (older), from a previous answer's `next`. */
                before?: number;
                /** @description Keyset page size: 1 to 500; 50 when left out. */
                limit?: number;
                /** @description Numbered pages from 1; 1 when left out. */
                page?: number;
                /** @description 1 to 500; 50 when left out. */
                per_page?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of rows */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LogList"];
                };
            };
            /** @description Malformed or out-of-range filter */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    logs_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The row's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The row */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LogView"];
                };
            };
            /** @description Malformed id */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such row visible to the caller */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    model_prices_list: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description All prices */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PriceView"][];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    model_prices_create: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreatePrice"];
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PriceView"];
                };
            };
            /** @description Invalid field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description A price for that model and time exists */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    model_prices_unpriced: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Unpriced models */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UnpricedModel"][];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    model_prices_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The price's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The price */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PriceView"];
                };
            };
            /** @description Malformed id */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such price */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    model_prices_replace: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The price's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreatePrice"];
            };
        };
        responses: {
            /** @description Replaced */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PriceView"];
                };
            };
            /** @description Invalid field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such price */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description A price for that model and time exists */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    model_prices_delete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The price's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Malformed id */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such price */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    model_routes_list: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The routes */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ModelRouteView"][];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    model_routes_create: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ModelRouteInput"];
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ModelRouteView"];
                };
            };
            /** @description Invalid or missing field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Name taken */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    model_routes_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The route's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The route */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ModelRouteView"];
                };
            };
            /** @description Malformed id */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    model_routes_delete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The route's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Malformed id */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    model_routes_update: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The route's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ModelRouteInput"];
            };
        };
        responses: {
            /** @description Updated */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ModelRouteView"];
                };
            };
            /** @description Invalid field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such route */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Name taken */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    provider_keys_callback: {
        parameters: {
            query?: {
                code?: string;
                state?: string;
                /** @description Set by the provider when the user or the provider refused. */
                error?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Connected */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/html": string;
                };
            };
            /** @description Unknown, used or expired state, refused authorization, or failed exchange */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/html": string;
                };
            };
            /** @description Internal error */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/html": string;
                };
            };
        };
    };
    meta_document: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The OpenAPI document */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": Record<string, never>;
                };
            };
        };
    };
    roles_permissions: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description All permissions */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PermissionView"][];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    provider_keys_list: {
        parameters: {
            query?: {
                /** @description Only the keys of this provider. */
                provider_id?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The keys */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ProviderKeyView"][];
                };
            };
            /** @description Malformed query */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    provider_keys_create: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateProviderKey"];
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ProviderKeyView"];
                };
            };
            /** @description Invalid field or unknown provider */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    provider_keys_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The provider key's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The key */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ProviderKeyView"];
                };
            };
            /** @description Malformed id */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such key */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    provider_keys_delete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The provider key's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Malformed id */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such key */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    provider_keys_update: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The provider key's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UpdateProviderKey"];
            };
        };
        responses: {
            /** @description Updated */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ProviderKeyView"];
                };
            };
            /** @description Invalid field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such key */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    provider_keys_health_check: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The provider key's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The check's result and the key's health after it */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HealthCheckResponse"];
                };
            };
            /** @description Malformed id */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such key */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The key is not in the configuration snapshot yet */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    provider_keys_authorize: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The provider key's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Where to send the browser */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuthorizeResponse"];
                };
            };
            /** @description Not an OAuth2 key, or its provider has no OAuth configuration */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission (provider_keys:write) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such key */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    stats_provider_key_trends: {
        parameters: {
            query?: {
                granularity?: "hour" | "day";
                days?: number;
                model?: string;
            };
            header?: never;
            path: {
                /** @description The key's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TrendView"];
                };
            };
            /** @description Malformed or out-of-range parameter */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Not an admin */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such provider key */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    providers_list: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description All providers */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ProviderView"][];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    providers_create: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateProvider"];
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ProviderView"];
                };
            };
            /** @description Invalid field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Name taken */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    providers_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The provider's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The provider */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ProviderView"];
                };
            };
            /** @description Malformed id */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such provider */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    providers_delete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The provider's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Malformed id */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such provider */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    providers_update: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The provider's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UpdateProvider"];
            };
        };
        responses: {
            /** @description Updated */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ProviderView"];
                };
            };
            /** @description Invalid field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such provider */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Name taken */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    providers_provider_models: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The provider's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The cached list */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ProviderModelsView"];
                };
            };
            /** @description Malformed id */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such provider */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    providers_refresh_provider_models: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The provider's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Fetched (or failed: see `last_error`) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ProviderModelsView"];
                };
            };
            /** @description Malformed id */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such provider */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    roles_list: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description All roles */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RoleView"][];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    roles_create: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateRole"];
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RoleView"];
                };
            };
            /** @description Invalid field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission, or the role grants one the caller lacks */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Name taken or built-in */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    roles_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The custom role's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The role */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RoleView"];
                };
            };
            /** @description Malformed id */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such custom role */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    roles_delete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The custom role's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Malformed id */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission, or the role grants one the caller lacks */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such custom role */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description A user holds the role */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    roles_update: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The custom role's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UpdateRole"];
            };
        };
        responses: {
            /** @description Updated */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RoleView"];
                };
            };
            /** @description Invalid field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission, or the role grants one the caller lacks */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such custom role */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    stats_overview: {
        parameters: {
            query?: {
                from?: string;
                to?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["OverviewView"];
                };
            };
            /** @description Malformed or out-of-range parameter */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    stats_top_keys: {
        parameters: {
            query?: {
                from?: string;
                to?: string;
                limit?: number;
                by?: "requests" | "tokens" | "cost";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TopList_TopKey"];
                };
            };
            /** @description Malformed or out-of-range parameter */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    stats_top_models: {
        parameters: {
            query?: {
                from?: string;
                to?: string;
                limit?: number;
                by?: "requests" | "tokens" | "cost";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TopList_TopModel"];
                };
            };
            /** @description Malformed or out-of-range parameter */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    stats_top_providers: {
        parameters: {
            query?: {
                from?: string;
                to?: string;
                limit?: number;
                by?: "requests" | "tokens" | "cost";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TopList_TopProvider"];
                };
            };
            /** @description Malformed or out-of-range parameter */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    stats_trends: {
        parameters: {
            query?: {
                granularity?: "hour" | "day";
                days?: number;
                client_key_id?: number;
                provider_key_id?: number;
                model?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TrendView"];
                };
            };
            /** @description Malformed or out-of-range parameter */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    users_list: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description All users */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserView"][];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission, or the user or role has permissions the caller lacks */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    users_create: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateUser"];
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserView"];
                };
            };
            /** @description Invalid field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission, or the user or role has permissions the caller lacks */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Username taken */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    users_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The user's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The user */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserView"];
                };
            };
            /** @description Malformed id */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission, or the user or role has permissions the caller lacks */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such user */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    users_delete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The user's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Malformed id */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission, or the user or role has permissions the caller lacks */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such user */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description The caller's own account, or the last admin */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    users_update: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The user's id */
                id: number;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UpdateUser"];
            };
        };
        responses: {
            /** @description Updated */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserView"];
                };
            };
            /** @description Invalid field */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing or invalid access token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Missing permission, or the user or role has permissions the caller lacks */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description No such user */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description Username taken, or a change to the caller's own role or state */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
}
