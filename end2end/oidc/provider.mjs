// A real OpenID provider for the tests (panva's certified `oidc-provider`), not a mock: it
// publishes discovery and keys, requires PKCE (S256), checks the redirect URI, signs ID tokens
// and refuses a code used twice.
//
//   node provider.mjs <port> <client_id> <client_secret> <redirect_uri>
//   (or OIDC_PORT, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI)
//
// The login page (dev interactions) takes any login; it becomes the subject and the email.
// As OpenID Connect Core 5.4 has it, the claims a scope requests (the email, the tenant and role
// below) come from the UserInfo endpoint only, not the ID token; OIDC_CLAIMS_IN_ID_TOKEN=1 puts
// them in the ID token too, as some providers do. GET /test/discoveries answers how many times
// the discovery document was fetched (for the relying party's re-discovery limits).
// A login `unverified+someone@x.test` has the email `someone@x.test` with `email_verified: false`. A login of the form
// `someone@x.test#acme` also carries the claims `org: "acme"` and `role: "admin"` (the part
// after `#` names the tenant; for claim-mapping tests).
import Provider from 'oidc-provider';

const [port, clientId, clientSecret, redirectUri] = [
  process.argv[2] ?? process.env.OIDC_PORT,
  process.argv[3] ?? process.env.OIDC_CLIENT_ID,
  process.argv[4] ?? process.env.OIDC_CLIENT_SECRET,
  process.argv[5] ?? process.env.OIDC_REDIRECT_URI,
];
if (!port || !clientId || !clientSecret || !redirectUri) {
  console.error('usage: provider.mjs <port> <client_id> <client_secret> <redirect_uri>');
  process.exit(2);
}

const loopback = ['127.0.0.1', '[::1]'].includes(new URL(redirectUri).hostname);

function claimsOf(login) {
  const [name, org] = login.split('#');
  const unverified = name.startsWith('unverified+');
  const claims = {
    sub: login,
    email: unverified ? name.slice('unverified+'.length) : name,
    email_verified: !unverified,
  };
  if (org) {
    claims.org = org;
    claims.role = 'admin';
  }
  return claims;
}

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      // A loopback redirect URI of a native client matches on any port (RFC 8252), so a test
      // can register it before it knows the relying party's port.
      application_type: loopback ? 'native' : 'web',
    },
  ],
  pkce: { required: () => true },
  claims: {
    // The tenant and role claims ride on `openid`, so the relying party needs no extra scope.
    openid: ['sub', 'org', 'role'],
    email: ['email', 'email_verified'],
  },
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => claimsOf(id),
  }),
  features: { devInteractions: { enabled: true } },
  conformIdTokenClaims: process.env.OIDC_CLAIMS_IN_ID_TOKEN !== '1',
  cookies: { keys: ['latchkey-test-provider-cookie-key'] },
});

let discoveries = 0;
provider.use(async (ctx, next) => {
  if (ctx.path === '/test/discoveries') {
    ctx.body = { discoveries };
    return;
  }
  if (ctx.path === '/.well-known/openid-configuration') discoveries += 1;
  await next();
});

provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`oidc-provider listening on http://127.0.0.1:${port}`);
});
