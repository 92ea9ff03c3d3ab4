// A relying party written with npm's openid-client (OpenID Certified), driving latch through
// the whole code flow as an application would: discovery, PKCE, the browser's sign-in (with
// its texted code), the code's exchange with the ID token checked against the JWKS, userinfo,
// refresh, introspection, revocation and the end-session URL; then a public application.
// It prints what it found as one JSON object; the Rust test judges it.
//
// Environment: OPENID_CLIENT (the package's entry file), LATCH_ISSUER, CLIENT_ID,
// CLIENT_SECRET, PUBLIC_CLIENT_ID, REDIRECT_URI, POST_LOGOUT_REDIRECT_URI, EMAIL, PASSWORD,
// PHONE.
import { pathToFileURL } from 'node:url';

const env = process.env;
const client = await import(pathToFileURL(env.OPENID_CLIENT).href);
const issuer = new URL(env.LATCH_ISSUER);
// latch runs on plain HTTP on loopback in the tests.
const insecure = { execute: [client.allowInsecureRequests] };

// A browser, as far as latch's pages need one: cookies, and redirects seen one at a time.
const jar = new Map();
async function go(url, init = {}) {
  const headers = new Headers(init.headers || {});
  if (jar.size) {
    headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
  }
  const response = await fetch(new URL(url, issuer), { ...init, headers, redirect: 'manual' });
  for (const cookie of response.headers.getSetCookie()) {
    const [pair] = cookie.split(';');
    const at = pair.indexOf('=');
    const [name, value] = [pair.slice(0, at), pair.slice(at + 1)];
    if (value === '' || /max-age=0/i.test(cookie)) jar.delete(name); else jar.set(name, value);
  }
  return response;
}
const location = (response) => {
  if (response.status !== 303 && response.status !== 302) {
    throw new Error(`expected a redirect, got ${response.status}`);
  }
  return response.headers.get('location');
};
async function submit(page, fields) {
  const html = await (await go(page)).text();
  const csrf = /name="csrf" value="([0-9a-f]+)"/.exec(html)[1];
  const body = new URLSearchParams({ csrf, ...fields });
  return location(await go(page, { method: 'POST', body }));
}

/// The browser's part: from the authorization URL to the application's callback.
async function signIn(authorizationUrl) {
  let at = location(await go(authorizationUrl));
  if (at === '/sign-in') {
    at = await submit('/sign-in', { email: env.EMAIL, password: env.PASSWORD });
  }
  if (at.startsWith('/sign-in/code')) {
    const outbox = await (await go(`/api/v1/dev/outbox?to=${encodeURIComponent(env.PHONE)}`)).json();
    const code = outbox.messages.find((m) => m.code).code;
    at = await submit('/sign-in/code', { code });
  }
  if (at === '/oidc/authorize/continue') {
    at = location(await go(at));
  }
  return new URL(at);
}

async function flow(config, scope) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: env.REDIRECT_URI,
    scope,
    state,
    nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  const callback = await signIn(url);
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  return { tokens, callback, verifier };
}

const said = {};
const confidential = await client.discovery(
  issuer, env.CLIENT_ID, undefined, client.ClientSecretBasic(env.CLIENT_SECRET), insecure,
);
const { tokens, callback, verifier } = await flow(confidential, 'openid profile email offline_access');
said.claims = tokens.claims();
said.scope = tokens.scope;
said.userinfo = await client.fetchUserInfo(confidential, tokens.access_token, said.claims.sub);

const refreshed = await client.refreshTokenGrant(confidential, tokens.refresh_token);
said.refreshed = refreshed.claims();
said.introspected = await client.tokenIntrospection(confidential, refreshed.access_token);
await client.tokenRevocation(confidential, refreshed.refresh_token);
said.revoked = await client.tokenIntrospection(confidential, refreshed.refresh_token);

// The code once more: refused (and what it gave ends).
try {
  await client.authorizationCodeGrant(confidential, callback, { pkceCodeVerifier: verifier, expectedState: client.skipStateCheck });
  said.replay = 'accepted';
} catch (e) {
  said.replay = e.error || e.code || String(e);
}


const spa = await client.discovery(issuer, env.PUBLIC_CLIENT_ID, undefined, client.None(), insecure);
const spaTokens = (await flow(spa, 'openid email')).tokens;
said.public = spaTokens.claims();

const endSession = client.buildEndSessionUrl(confidential, {
  id_token_hint: tokens.id_token,
  post_logout_redirect_uri: env.POST_LOGOUT_REDIRECT_URI,
  state: 'bye',
});
said.signedOutTo = location(await go(endSession));
said.afterSignOut = (await go('/api/v1/me')).status;

console.log(JSON.stringify(said));
