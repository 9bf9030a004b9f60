#!/usr/bin/env node
// Local OpenID Connect provider for lakegate tests (oidc-provider 9.x).
//
// Usage:
//   node provider.mjs [--port N] [--client-id ID] [--client-secret S]
//                     [--claim KEY=VALUE]...
//
// Listens on 127.0.0.1 (port 0 = pick a free port by default). Once listening
// it prints exactly one JSON line on stdout:
//   {"issuer": "http://127.0.0.1:PORT"}
// and serves until killed (SIGTERM/SIGINT -> exit 0). Everything else
// oidc-provider says goes to stderr.
//
// The single registered client is a "native" application (RFC 8252) with the
// redirect URI http://127.0.0.1/callback; oidc-provider then accepts
// http://127.0.0.1:<any port>/callback (and localhost / [::1] too).
// Without --client-secret the client is public (token_endpoint_auth_method
// "none", PKCE required); with it the client is confidential and may
// authenticate with client_secret_basic or client_secret_post.
//
// Login/consent use oidc-provider's devInteractions: any login name and any
// password are accepted, the login name becomes the ID token's `sub`.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

// oidc-provider prints notices with console.info (stdout). Keep stdout for the
// single JSON line only.
console.info = (...args) => console.error(...args);
console.log = (...args) => console.error(...args);

const { default: Provider } = await import('oidc-provider');

function usage(msg) {
  if (msg) process.stderr.write(`provider.mjs: ${msg}\n`);
  process.stderr.write(
    'usage: node provider.mjs [--port N] [--client-id ID] [--client-secret S] [--claim KEY=VALUE]...\n',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    port: 0, clientId: 'lakegate', clientSecret: undefined, claims: new Map(),
  };
  for (let i = 0; i < argv.length; i += 1) {
    let arg = argv[i];
    let value;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    if (eq !== -1) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const next = () => {
      if (value !== undefined) return value;
      i += 1;
      if (i >= argv.length) usage(`${arg} needs a value`);
      return argv[i];
    };
    switch (arg) {
      case '--port': {
        const v = next();
        const port = Number(v);
        if (!/^\d+$/.test(v) || port > 65535) usage(`bad --port ${v}`);
        opts.port = port;
        break;
      }
      case '--client-id':
        opts.clientId = next();
        if (!opts.clientId) usage('empty --client-id');
        break;
      case '--client-secret':
        opts.clientSecret = next();
        if (!opts.clientSecret) usage('empty --client-secret');
        break;
      case '--claim': {
        const kv = next();
        const i2 = kv.indexOf('=');
        if (i2 <= 0) usage(`bad --claim ${kv} (want KEY=VALUE)`);
        const key = kv.slice(0, i2);
        let val = kv.slice(i2 + 1);
        // A value that looks like JSON (array/object) is used as JSON, e.g.
        // --claim 'groups=["a","b"]'.
        if (/^\s*[[{]/.test(val)) {
          try { val = JSON.parse(val); } catch { usage(`bad JSON in --claim ${kv}`); }
        }
        // A key given more than once becomes an array of its values.
        if (opts.claims.has(key)) {
          const prev = opts.claims.get(key);
          opts.claims.set(key, [].concat(prev, val));
        } else {
          opts.claims.set(key, val);
        }
        break;
      }
      case '-h':
      case '--help':
        usage();
        break;
      default:
        usage(`unknown argument ${argv[i]}`);
    }
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));

const RESERVED = new Set(['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'nonce', 'auth_time', 'acr', 'amr', 'azp', 'at_hash', 'c_hash', 'sid']);
for (const key of opts.claims.keys()) {
  if (RESERVED.has(key)) usage(`--claim ${key} would override a protocol claim`);
}

// Signing key generated at start: RS256 only.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = {
  ...privateKey.export({ format: 'jwk' }),
  kid: `test-${randomBytes(6).toString('hex')}`,
  alg: 'RS256',
  use: 'sig',
};

const server = createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(opts.port, '127.0.0.1', resolve);
});
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const client = {
  client_id: opts.clientId,
  application_type: 'native',
  // Native client + http loopback redirect: any port is accepted (RFC 8252 7.3).
  redirect_uris: ['http://127.0.0.1/callback'],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  id_token_signed_response_alg: 'RS256',
};
if (opts.clientSecret !== undefined) {
  client.client_secret = opts.clientSecret;
  // oidc-provider 9.x accepts client_secret_post as well for a client
  // registered with client_secret_basic (and vice versa).
  client.token_endpoint_auth_method = 'client_secret_basic';
} else {
  client.token_endpoint_auth_method = 'none';
}

const extraClaimNames = [...opts.claims.keys()].filter(
  (k) => !['email', 'email_verified', 'name', 'preferred_username'].includes(k),
);

const configuration = {
  clients: [client],
  jwks: { keys: [jwk] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  // scope -> claims it releases. Extra --claim keys ride on `openid`, so they
  // are in every ID token.
  claims: {
    openid: ['sub', ...extraClaimNames],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
  },
  // Put scope-released claims (email, profile, extras) into the ID token even
  // though an access token is issued too (default would keep them for
  // userinfo only).
  conformIdTokenClaims: false,
  responseTypes: ['code'],
  pkce: {
    // Public clients must use PKCE; for confidential clients it is optional
    // but always verified when a code_challenge was sent.
    required: (ctx, c) => c.clientAuthMethod === 'none',
  },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: false },
  },
  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 60,
    IdToken: 3600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
  async findAccount(ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return {
          email: `${sub}@example.com`,
          email_verified: true,
          name: sub,
          preferred_username: sub,
          ...Object.fromEntries(opts.claims),
          sub,
        };
      },
    };
  },
};

const provider = new Provider(issuer, configuration);
provider.on('server_error', (ctx, err) => {
  process.stderr.write(`provider.mjs: server_error: ${err?.stack || err}\n`);
});
server.on('request', provider.callback());

function shutdown() {
  server.close();
  server.closeAllConnections?.();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

process.stdout.write(`{"issuer": ${JSON.stringify(issuer)}}\n`);
