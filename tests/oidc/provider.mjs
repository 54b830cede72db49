// SPDX-License-Identifier: GPL-2.0-or-later
//
// The OpenID provider of the SSO tests: Node's oidc-provider (pinned in
// package.json and package-lock.json beside this file), served over HTTPS
// on 127.0.0.1 with the test's certificate.  Its test users:
//   alice  groups ["lifeline-techs"], amr ["pwd", "otp"]
//   bob    groups ["lifeline-techs"], amr ["pwd"]
//   carol  groups ["accounting"],     amr ["pwd", "otp"]
// (any password), consent granted without asking.
//
// Usage: node provider.mjs CERT.pem KEY.pem
// Prints "port N" once listening.  Then reads commands on stdin, one a
// line, and answers each with one line once it is done:
//   client REDIRECT_URI SECRET   the test client "lifeline" -> "ready ISSUER"
//   mode MODE                    what the token endpoint does to the next
//                                ID tokens -> "ok mode MODE"
// Modes: none (as issued), tamper (a claim changed, signature kept),
// audience, expired, nonce, issuer (re-signed with the provider's own key:
// a wrong aud, an exp in the past, another nonce, another iss).

import fs from 'node:fs';
import https from 'node:https';
import readline from 'node:readline';

import * as jose from 'jose';
import Provider from 'oidc-provider';

const USERS = {
	alice: { groups: ['lifeline-techs'], amr: ['pwd', 'otp'] },
	bob: { groups: ['lifeline-techs'], amr: ['pwd'] },
	carol: { groups: ['accounting'], amr: ['pwd', 'otp'] },
};

const [certFile, keyFile] = process.argv.slice(2);
const server = https.createServer({
	cert: fs.readFileSync(certFile),
	key: fs.readFileSync(keyFile),
});
let handler = (req, res) => {
	res.statusCode = 503;
	res.end('not configured yet\n');
};
server.on('request', (req, res) => handler(req, res));

const { privateKey } = await jose.generateKeyPair('RS256', {
	extractable: true,
});
const signingJwk = {
	...(await jose.exportJWK(privateKey)),
	kid: 'test-key-1',
	alg: 'RS256',
	use: 'sig',
};
let mode = 'none';

function b64json(part) {
	return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

async function resign(token, change) {
	const [h, p] = token.split('.');
	const payload = { ...b64json(p), ...change };
	return new jose.CompactSign(
		new TextEncoder().encode(JSON.stringify(payload)))
		.setProtectedHeader(b64json(h))
		.sign(privateKey);
}

async function mutate(token) {
	const now = Math.floor(Date.now() / 1000);
	switch (mode) {
	case 'tamper': {
		const [h, p, s] = token.split('.');
		const payload = { ...b64json(p), preferred_username: 'mallory' };
		const p2 = Buffer.from(JSON.stringify(payload)).toString(
			'base64url');
		return [h, p2, s].join('.');
	}
	case 'audience':
		return resign(token, { aud: 'someone-else' });
	case 'expired':
		return resign(token, { iat: now - 1200, exp: now - 600 });
	case 'nonce':
		return resign(token, { nonce: 'not-the-relays-nonce' });
	case 'issuer':
		return resign(token, { iss: 'https://idp.invalid' });
	default:
		return token;
	}
}

function makeProvider(issuer, redirectUri, secret) {
	const provider = new Provider(issuer, {
		clients: [{
			client_id: 'lifeline',
			client_secret: secret,
			redirect_uris: [redirectUri],
			grant_types: ['authorization_code'],
			response_types: ['code'],
			token_endpoint_auth_method: 'client_secret_basic',
		}],
		jwks: { keys: [signingJwk] },
		cookies: { keys: ['lifeline-test-cookie-key'] },
		pkce: { methods: ['S256'], required: () => true },
		claims: {
			// how the user signed in, in every ID token (as
			// Azure AD and Keycloak do)
			openid: ['sub', 'amr', 'auth_time'],
			profile: ['preferred_username', 'name'],
			groups: ['groups'],
		},
		// profile and groups in the ID token itself, not only userinfo
		conformIdTokenClaims: false,
		features: { devInteractions: { enabled: true } },
		async findAccount(ctx, id) {
			if (!USERS[id])
				return undefined;
			return {
				accountId: id,
				async claims() {
					return {
						sub: id,
						preferred_username: id,
						name: 'Test ' + id,
						groups: USERS[id].groups,
					};
				},
			};
		},
		// consent is not what these tests are about: granted at once
		async loadExistingGrant(ctx) {
			const id = ctx.oidc.result?.consent?.grantId ||
				ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
			if (id)
				return ctx.oidc.provider.Grant.find(id);
			const grant = new ctx.oidc.provider.Grant({
				clientId: ctx.oidc.client.clientId,
				accountId: ctx.oidc.session.accountId,
			});
			grant.addOIDCScope('openid profile groups');
			await grant.save();
			return grant;
		},
	});
	// the login form's answer names the user; what the IdP says of how
	// they signed in (amr) is the test user's
	const finished = provider.interactionFinished.bind(provider);
	provider.interactionFinished = (req, res, result, opts) => {
		if (result.login && USERS[result.login.accountId])
			result.login.amr = USERS[result.login.accountId].amr;
		return finished(req, res, result, opts);
	};
	provider.use(async (ctx, next) => {
		await next();
		if (ctx.oidc?.route === 'token' && ctx.body?.id_token) {
			// what was issued, for the test's log
			console.error('id_token claims ' + JSON.stringify(
				b64json(ctx.body.id_token.split('.')[1])));
			ctx.body.id_token = await mutate(ctx.body.id_token);
		}
	});
	return provider;
}

server.listen(0, '127.0.0.1', () => {
	const port = server.address().port;
	const issuer = `https://127.0.0.1:${port}`;
	const rl = readline.createInterface({ input: process.stdin });

	rl.on('line', (line) => {
		const [cmd, ...args] = line.trim().split(/\s+/);
		if (cmd === 'client' && args.length === 2) {
			handler = makeProvider(issuer, args[0], args[1]).callback();
			console.log(`ready ${issuer}`);
		} else if (cmd === 'mode' && args.length === 1) {
			mode = args[0];
			console.log(`ok mode ${mode}`);
		} else {
			console.log(`error ${line}`);
		}
	});
	rl.on('close', () => process.exit(0));
	console.log(`port ${port}`);
});
