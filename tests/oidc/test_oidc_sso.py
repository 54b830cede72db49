#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Single sign-on against a real OpenID provider (Node's oidc-provider,
pinned by tests/oidc/package-lock.json and installed with `npm ci` into
the build folder), served over HTTPS with a certificate made here and
trusted by the relay through [oidc] ca_file; the browser is headless
Chromium on the DevTools pipe (tests/pinpage/pinpage_lib.py), and the
agent is the real `lifeline-agent --cli login --sso`.

The full sign-in (login form, the provider's redirect to the relay's
callback, the agent's token), then each refusal with its code and
reason: a tampered ID token, a wrong audience, an expired token, another
nonce, another issuer, a replayed callback (its code), a wrong PKCE
verifier, a user outside every mapped group, mfa_required without the
org's amr, and the provider down.  Then the GUI's "Sign in with single
sign-on" on an Xvfb of the test's own, its system browser this same
Chromium: cancelled, refused (the relay's sentence in the form), signed
in (screenshots in artifacts/oidc/).  Every wait is for an event (a line
of a program, a CDP event, a process exit) with a deadline.  Exit 77
(skip) without node/npm or chromium."""

import hashlib
import base64
import json
import os
import queue
import select
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse

SRC = os.environ['LL_SOURCE_ROOT']
sys.path.insert(0, os.path.join(SRC, 'tests', 'pinpage'))
from pinpage_lib import (Chromium, Relay, check, fail,  # noqa: E402
                         DEADLINE_S)

HERE = os.path.dirname(os.path.abspath(__file__))
TMP = os.environ['LL_TEST_TMPDIR']
AGENT = os.environ['LL_AGENT_BIN']
ORG = 'example'
SECRET = 'provider-client-secret-0c4f1e'


def need(prog):
    if shutil.which(prog) is None:
        print('SKIP: %s is not installed' % prog)
        sys.exit(77)


def npm_install():
    """node_modules for provider.mjs, from the lock file, once per lock."""
    d = os.path.join(TMP, 'oidc-provider')
    lock = open(os.path.join(HERE, 'package-lock.json'), 'rb').read()
    stamp = os.path.join(d, 'lock.sha256')
    want = hashlib.sha256(lock).hexdigest()
    os.makedirs(d, exist_ok=True)
    for f in ('package.json', 'package-lock.json', 'provider.mjs'):
        shutil.copy(os.path.join(HERE, f), d)
    if not (os.path.exists(stamp) and open(stamp).read() == want):
        p = subprocess.run(['npm', 'ci', '--no-audit', '--no-fund',
                            '--loglevel=error'], cwd=d,
                           capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            fail('npm ci: %s' % p.stderr)
        with open(stamp, 'w') as f:
            f.write(want)
    return d


class Lines:
    """A process's output lines, read on a thread, waited for by
    prefix."""

    def __init__(self, stream, log_path):
        self.q = queue.Queue()
        self.log = open(log_path, 'a')
        threading.Thread(target=self._read, args=(stream,),
                         daemon=True).start()

    def _read(self, stream):
        for line in stream:
            self.log.write(line)
            self.log.flush()
            self.q.put(line.rstrip('\n'))
        self.q.put(None)

    def wait(self, prefix, timeout=DEADLINE_S, anywhere=False):
        """The next line that starts with prefix (or, anywhere, holds
        it); the lines before it are passed over."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                fail('no line "%s..." within %d s' % (prefix, timeout))
            try:
                line = self.q.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                fail('the program ended before "%s..."' % prefix)
            if line.startswith(prefix) or (anywhere and prefix in line):
                return line


class Provider:
    def __init__(self, d, cert, key):
        self.proc = subprocess.Popen(
            ['node', 'provider.mjs', cert, key], cwd=d,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=open(os.path.join(TMP, 'oidc-provider.log'), 'a'),
            text=True, bufsize=1)
        self.out = Lines(self.proc.stdout,
                         os.path.join(TMP, 'oidc-provider.out'))
        self.port = int(self.out.wait('port ').split()[1])

    def ask(self, line, answer):
        self.proc.stdin.write(line + '\n')
        self.proc.stdin.flush()
        return self.out.wait(answer)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=DEADLINE_S)


def make_cert(d):
    cert, key = os.path.join(d, 'idp-cert.pem'), os.path.join(d, 'idp-key.pem')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
                    'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
                    '-subj', '/CN=127.0.0.1', '-addext',
                    'subjectAltName=IP:127.0.0.1', '-keyout', key,
                    '-out', cert], check=True, capture_output=True)
    return cert, key


def spki(cert):
    pub = subprocess.run(['openssl', 'x509', '-pubkey', '-noout', '-in',
                          cert], capture_output=True, check=True).stdout
    der = subprocess.run(['openssl', 'pkey', '-pubin', '-outform', 'der'],
                         input=pub, capture_output=True, check=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def configure(relay, issuer, cert, extra='', group='oidc'):
    """relay.conf with [oidc], then SIGHUP and wait for the reload."""
    secret = os.path.join(relay.state, 'idp-secret')
    with open(secret, 'w') as f:
        f.write(SECRET + '\n')
    os.chmod(secret, 0o600)
    with open(os.path.join(relay.state, 'relay.conf'), 'w') as f:
        # one address signs in many times here: login's bucket wider
        f.write('[relay]\nlog_level = 3\npublic_url = %s\n'
                'login_burst = 100\n\n'
                '[%s]\nissuer = %s\nclient_id = lifeline\n'
                'client_secret_file = idp-secret\nca_file = %s\n'
                'scopes = openid profile groups\n'
                'group_map = lifeline-techs=techs\n%s' %
                (relay.base, group, issuer, cert, extra))
    with relay.cond:
        seen = len(relay.lines)
    relay.proc.send_signal(1)  # SIGHUP
    end = time.monotonic() + DEADLINE_S
    with relay.cond:
        while True:
            new = [ln for ln in relay.lines[seen:] if ln is not None]
            if any('keeping the previous configuration' in ln
                   for ln in new):
                fail('the relay refused relay.conf: %s' % new)
            if any('reload: certificate' in ln for ln in new):
                return
            if end - time.monotonic() <= 0:
                fail('no reload within %d s' % DEADLINE_S)
            relay.cond.wait(end - time.monotonic())


def refused_configs(relay, issuer, cert):
    """[oidc] groups the relay refuses, each with a line naming why (an
    admin command reads relay.conf as serve does)."""
    conf = os.path.join(relay.state, 'relay.conf')
    secret = os.path.join(relay.state, 'idp-secret')
    good = ('[oidc]\nissuer = %s\nclient_id = lifeline\n'
            'client_secret_file = idp-secret\nca_file = %s\n' %
            (issuer, cert))
    cases = [
        ('[relay]\n' + good, 0o600, 'needs public_url'),
        ('[relay]\npublic_url = %s\n%s' % (relay.base, good), 0o644,
         'accessible to group or others'),
        ('[relay]\npublic_url = %s\n%sclient_secret = x\n' %
         (relay.base, good), 0o600, "unknown key 'client_secret'"),
        ('[relay]\npublic_url = %s\n%s' %
         (relay.base, good.replace('https://', 'http://', 1)), 0o600,
         'needs issuer (https://)'),
        ('[relay]\npublic_url = %s\n%sgroup_map = techs\n' %
         (relay.base, good), 0o600, 'group_map is GROUP=TECHNICIAN_GROUP'),
    ]
    with open(secret, 'w') as f:
        f.write(SECRET + '\n')
    for text, mode, why in cases:
        with open(conf, 'w') as f:
            f.write(text)
        os.chmod(secret, mode)
        p = relay.cmd('policy', 'show', ok=False)
        check(p.returncode != 0 and why in p.stderr and
              SECRET not in p.stderr,
              'relay.conf refused: %s (%s)' % (why, p.stderr.strip()))
    os.chmod(secret, 0o600)


class Agent:
    """`lifeline-agent --cli --json login --sso` until it prints the
    provider's URL."""

    def __init__(self, relay, profile, *extra, url=True):
        self.proc = subprocess.Popen(
            [AGENT, '--cli', '--relay', relay.base, '--ca',
             os.path.join(relay.state, 'cert.pem'), '--profile', profile,
             '--json', 'login', '--sso'] + list(extra),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out = Lines(self.proc.stdout, os.path.join(TMP, 'agent.out'))
        line = self.out.wait('{')
        self.url = json.loads(line).get('authorize_url')
        if self.url is None:
            self.proc.wait(timeout=DEADLINE_S)
            self.result = json.loads(line)
            if url:
                fail('login --sso printed no URL: %s' % line)
        else:
            self.result = None

    def finish(self):
        """(exit status, the result line as JSON)."""
        if self.result is None:
            self.result = json.loads(self.out.wait('{'))
        st = self.proc.wait(timeout=DEADLINE_S)
        err = self.proc.stderr.read()
        if 'Sanitizer' in err:
            fail('the agent under a sanitizer: %s' % err)
        return st, self.result


class Gui:
    """The agent's GUI on an Xvfb of its own (-displayfd, as
    tests/common/lt_x.h starts one), keys sent with xdotool as a person
    presses them, windows waited for with e2e-target.  Its system
    browser is a desktop entry, the default for https in a private
    XDG_CONFIG_HOME, whose program hands the address to this test's
    Chromium through a FIFO: the GUI opens the browser as on any desktop
    (gtk_show_uri_on_window), and the sign-in is the real one."""

    def __init__(self, relay):
        self.target = os.environ['LL_E2E_TARGET']
        self.xdotool = os.environ['LL_XDOTOOL']
        self.dir = os.path.join(relay.dir, 'gui')
        self.xvfb = self.agent = None
        shutil.rmtree(self.dir, ignore_errors=True)
        data = os.path.join(self.dir, 'data')
        conf = os.path.join(self.dir, 'config')
        os.makedirs(os.path.join(data, 'applications'))
        os.makedirs(conf)
        fifo = os.path.join(self.dir, 'browser.fifo')
        os.mkfifo(fifo)
        prog = os.path.join(self.dir, 'browser')
        with open(prog, 'w') as f:
            f.write("#!/bin/sh\n# the system browser: the address to the "
                    "test's Chromium\nprintf '%%s\\n' \"$1\" > '%s'\n" %
                    fifo)
        os.chmod(prog, 0o755)
        with open(os.path.join(data, 'applications',
                               'lifeline-test-browser.desktop'), 'w') as f:
            f.write('[Desktop Entry]\nType=Application\nName=Test browser'
                    '\nExec=%s %%u\nMimeType=x-scheme-handler/https;\n'
                    'NoDisplay=true\n' % prog)
        with open(os.path.join(conf, 'mimeapps.list'), 'w') as f:
            f.write('[Default Applications]\nx-scheme-handler/https='
                    'lifeline-test-browser.desktop\n')
        # read and write: no end of file between two browsers
        self.browser = Lines(os.fdopen(os.open(fifo, os.O_RDWR), 'r'),
                             os.path.join(self.dir, 'browser.out'))
        self.display = self._xvfb()
        self.env = dict(os.environ, DISPLAY=self.display, NO_AT_BRIDGE='1',
                        GDK_BACKEND='x11', GSETTINGS_BACKEND='memory',
                        LC_ALL='C.UTF-8', XDG_DATA_HOME=data,
                        XDG_CONFIG_HOME=conf)
        self.env.pop('DBUS_SESSION_BUS_ADDRESS', None)
        self.agent = subprocess.Popen(
            [AGENT, '--relay', relay.base, '--ca',
             os.path.join(relay.state, 'cert.pem'), '--profile',
             os.path.join(self.dir, 'profile')],
            env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        self.log = Lines(self.agent.stdout,
                         os.path.join(self.dir, 'agent-gui.log'))

    def _xvfb(self):
        r, w = os.pipe()
        self.xvfb = subprocess.Popen(
            [os.environ['LL_XVFB'], '-displayfd', str(w), '-screen', '0',
             '1024x768x24', '-nolisten', 'tcp', '-noreset'],
            pass_fds=[w], stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.dir, 'xvfb.log'), 'w'))
        os.close(w)
        # it writes its display number once it takes clients
        got = b''
        end = time.monotonic() + DEADLINE_S
        while not got.endswith(b'\n'):
            left = end - time.monotonic()
            if left <= 0 or not select.select([r], [], [], left)[0]:
                fail('Xvfb named no display within %d s' % DEADLINE_S)
            more = os.read(r, 32)
            if not more:
                fail('Xvfb exited (see %s/xvfb.log)' % self.dir)
            got += more
        os.close(r)
        return ':' + got.decode().strip()

    def window(self, title, gone=False):
        """The id of the window titled title, once mapped (or until
        none is)."""
        p = subprocess.run(
            [self.target, '--window', '^%s$' % title, '--timeout',
             str(DEADLINE_S * 1000)] + (['--gone'] if gone else []),
            env=self.env, capture_output=True, text=True,
            timeout=DEADLINE_S + 10)
        check(p.returncode == 0, 'the window "%s" is %s' %
              (title, 'gone' if gone else 'there'))
        return p.stdout.strip()

    def keys(self, win, keys):
        """Focus on win (the pointer over it too: no window manager),
        then keys."""
        for args in (['mousemove', '--window', win, '20', '20'],
                     ['windowfocus', '--sync', win],
                     ['key', '--clearmodifiers', keys]):
            subprocess.run([self.xdotool] + args, env=self.env, check=True,
                           timeout=DEADLINE_S)

    def screenshot(self, win, name):
        """The screen to LL_ARTIFACTS_DIR/NAME.png once win stopped
        drawing."""
        adir = os.environ.get('LL_ARTIFACTS_DIR')
        if not adir or shutil.which('import') is None:
            return
        os.makedirs(adir, exist_ok=True)
        subprocess.run([self.target, '--drawn', win], env=self.env,
                       capture_output=True, timeout=DEADLINE_S + 10)
        subprocess.run(['import', '-window', 'root',
                        os.path.join(adir, name + '.png')], env=self.env,
                       capture_output=True, timeout=DEADLINE_S)

    def stop(self):
        for p in (self.agent, self.xvfb):
            if p is not None and p.poll() is None:
                p.terminate()
                p.wait(timeout=DEADLINE_S)


def body_text(b):
    return b.evaluate('document.body ? document.body.innerText : ""')


def wait_at_relay(b, relay):
    """The browser's load that ended at the relay's callback."""
    while True:
        b.wait_event('Page.loadEventFired')
        if b.evaluate('location.href').startswith(relay.base + '/'):
            return


def sign_in_form(b, relay, url, user):
    b.navigate(url)
    check(b.evaluate("!!document.querySelector('input[name=login]')"),
          'the provider asks %s to sign in' % user)
    b.drain()
    b.evaluate("document.querySelector('input[name=login]').value = '%s';"
               "document.querySelector('input[name=password]').value = "
               "'any-password';"
               "document.querySelector('button[type=submit]').click();"
               "true" % user)
    wait_at_relay(b, relay)


def sign_in_session(b, relay, url):
    """The provider remembers the browser's user: straight back."""
    b.drain()
    b.send('Page.navigate', {'url': url})
    wait_at_relay(b, relay)


def refused(b, relay, profile, mode, code, reason, provider):
    provider.ask('mode ' + mode, 'ok mode')
    a = Agent(relay, profile)
    sign_in_session(b, relay, a.url)
    page = body_text(b)
    st, res = a.finish()
    check(st != 0 and res['error']['code'] == code and
          '(%s)' % reason in res['error']['message'],
          '%s: refused %s (%s): %s' % (mode, code, reason, res))
    check('Sign-in failed' in page and '(%s)' % reason in page,
          '%s: the browser is told: %s' % (mode, page.strip()))
    relay.wait_log('(%s)' % reason)


def gui(b, relay, issuer):
    """The GUI's "Sign in with single sign-on" (Alt+S): the system
    browser at the provider and "PRODUCT Agent – Single sign-on" while
    it is away; Cancel; carol, in no mapped group, refused with the
    relay's sentence in the form; alice signed in, on to the main
    window."""
    if not all(os.environ.get(v) for v in ('LL_XVFB', 'LL_XDOTOOL',
                                           'LL_E2E_TARGET')):
        print('SKIP: the GUI\'s single sign-on needs Xvfb and xdotool')
        return
    product = os.environ['LL_PRODUCT']
    main_t = '%s Agent' % product
    sso_t = '%s Agent \u2013 Single sign-on' % product
    g = Gui(relay)
    try:
        main = g.window(main_t)
        g.keys(main, 'alt+s')
        url = g.browser.wait('https://')
        check(url.startswith(issuer + '/'),
              'the GUI opens the system browser at the provider')
        dlg = g.window(sso_t)
        g.log.wait('single sign-on: waiting for the browser',
                   anywhere=True)
        g.screenshot(dlg, 'agent-sso-waiting')
        g.keys(dlg, 'alt+c')
        g.log.wait('single sign-on cancelled', anywhere=True)
        g.window(sso_t, gone=True)

        b.send('Network.clearBrowserCookies')
        g.keys(main, 'alt+s')
        sign_in_form(b, relay, g.browser.wait('https://'), 'carol')
        line = g.log.wait('login: refused: ', anywhere=True)
        check('you are in none of the groups this organisation lets in '
              '(no_mapped_group)' in line,
              'carol: the form shows the relay\'s sentence (%s)' % line)
        g.window(sso_t, gone=True)
        g.screenshot(main, 'agent-sso-refused')

        b.send('Network.clearBrowserCookies')
        g.keys(main, 'alt+s')
        sign_in_form(b, relay, g.browser.wait('https://'), 'alice')
        g.log.wait('login: logged in to ' + relay.base, anywhere=True)
        g.window(sso_t, gone=True)
        # the main window's sessions, listed with the token
        line = g.log.wait('policies: ', anywhere=True)
        check('not offered (not an admin)' in line,
              'alice signed in through the GUI: the main window, as '
              'the technician she is (%s)' % line)
        g.screenshot(main, 'agent-sso-signed-in')
    finally:
        g.stop()
    with open(os.path.join(g.dir, 'agent-gui.log')) as f:
        log = f.read()
    check('Sanitizer' not in log and 'runtime error' not in log,
          'the GUI ran clean (under the asan setup: ASan and UBSan)')


def post(relay, path, body):
    st, _, data = relay.request('POST', path, body)
    return st, json.loads(data) if data else None


def verifier_bound(relay):
    """A stolen sso_id is no good without the verifier: the first wrong
    one ends the sign-in."""
    v = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b'=').decode()
    ch = base64.urlsafe_b64encode(
        hashlib.sha256(v.encode()).digest()).rstrip(b'=').decode()
    for org in ('no-such-org', ORG + '-x'):
        st, ans = post(relay, '/api/v1/login/sso',
                       {'org': org, 'code_challenge': ch})
        check(st == 400 and 'not set up' in ans['error']['message'],
              'an unknown org is an org without single sign-on')
    st, ans = post(relay, '/api/v1/login/sso',
                   {'code_challenge': ch[:-1]})
    check(st == 400, 'a challenge that is no S256 one: 400')
    st, ans = post(relay, '/api/v1/login/sso', {'code_challenge': ch})
    check(st == 200 and ans['authorize_url'].startswith('https://'),
          'login/sso answers the provider URL')
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(
        ans['authorize_url']).query)
    check(q['code_challenge_method'] == ['S256'] and
          q['code_challenge'][0] != ch and 'nonce' in q and 'state' in q,
          'the relay sends its own S256 challenge, a state and a nonce')
    st, a2 = post(relay, '/api/v1/login/sso/token',
                  {'sso_id': ans['sso_id'], 'code_verifier': v})
    check(st == 202 and a2['status'] == 'pending',
          'before the browser is back: 202 pending')
    wrong = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b'=').decode()
    st, a2 = post(relay, '/api/v1/login/sso/token',
                  {'sso_id': ans['sso_id'], 'code_verifier': wrong})
    check(st == 401 and a2['error']['code'] == 'unauthorized',
          'a wrong verifier: 401 unauthorized')
    st, a2 = post(relay, '/api/v1/login/sso/token',
                  {'sso_id': ans['sso_id'], 'code_verifier': v})
    check(st == 401, 'after it, the right one gets nothing either')


def main():
    need('node')
    need('npm')
    need('chromium')
    d = npm_install()
    cert, key = make_cert(TMP)
    provider = Provider(d, cert, key)
    relay = Relay('oidc-relay', org=ORG)
    relay.start()
    redirect = relay.base + '/api/v1/sso/callback'
    issuer = provider.ask('client %s %s' % (redirect, SECRET),
                          'ready ').split()[1]
    relay.cmd('group', 'add', 'techs', '--permissions', 'view,control')
    refused_configs(relay, issuer, cert)
    configure(relay, issuer, cert)
    profile = os.path.join(relay.dir, 'profile')
    b = Chromium(['--ignore-certificate-errors-spki-list=%s,%s' %
                  (relay.spki(), spki(cert))])
    try:
        b.open_page()
        run(b, relay, provider, profile, issuer, cert)
    finally:
        b.close()
        provider.stop()
        relay.stop()
    check(SECRET not in relay.log(), 'the client secret is never logged')


def run(b, relay, provider, profile, issuer, cert):
    # the full sign-in
    a = Agent(relay, profile)
    check(a.url.startswith(issuer + '/'), 'the agent prints the provider URL')
    sign_in_form(b, relay, a.url, 'alice')
    callback = b.evaluate('location.href')
    check('Signed in' in body_text(b), 'the callback page says signed in')
    st, res = a.finish()
    check(st == 0 and res.get('user') == 'alice' and res['org'] == ORG,
          'login --sso: logged in as alice (%s)' % res)
    p = subprocess.run([AGENT, '--cli', '--profile', profile, 'session',
                        'list'], capture_output=True, text=True,
                       timeout=DEADLINE_S)
    check(p.returncode == 0,
          'the token works: session list (%s)' % p.stderr.strip())
    st, ans = post(relay, '/api/v1/login', {'username': 'alice',
                                            'password': 'any-password'})
    check(st == 401 and ans['error']['code'] == 'unauthorized',
          'an SSO technician has no password to log in with')
    techs = json.loads(relay.cmd('technician', 'list',
                                 '--json').stdout)['technicians']
    alice = [t for t in techs if t['name'] == 'alice']
    check(len(alice) == 1 and alice[0]['group'] == 'techs' and
          not alice[0]['admin'] and
          alice[0]['display_name'] == 'Test alice',
          'alice is in the group group_map names (%s)' % alice)
    audit = relay.cmd('audit', 'export').stdout
    check('"login.sso.callback"' in audit and '"login.sso"' in audit,
          'the sign-in is in the audit')

    # the callback once more: its state (and the code) are spent; with
    # the parameters Google adds it is still read (and still a replay)
    st, _, body = relay.request('GET', callback[len(relay.base):] +
                                '&scope=openid+profile&authuser=0'
                                '&prompt=none&hd=example.com')
    check(st == 401 and b'(replayed)' in body,
          'a replayed callback: 401 sso_failed (replayed)')
    relay.wait_log('(replayed)')

    refused(b, relay, profile, 'tamper', 'sso_failed', 'signature',
            provider)
    refused(b, relay, profile, 'audience', 'sso_failed', 'audience',
            provider)
    refused(b, relay, profile, 'expired', 'sso_failed', 'expired',
            provider)
    refused(b, relay, profile, 'nonce', 'sso_failed', 'nonce', provider)
    refused(b, relay, profile, 'issuer', 'sso_failed', 'issuer', provider)
    provider.ask('mode none', 'ok mode')
    verifier_bound(relay)

    # mfa_required: only the amr the org names will do (bob has none)
    relay.cmd('policy', 'set', 'mfa_required', 'true')
    configure(relay, issuer, cert, 'mfa_amr = otp\n')
    a = Agent(relay, profile)
    sign_in_session(b, relay, a.url)
    st, res = a.finish()
    check(st == 0, 'mfa_required: alice, whose amr has otp, signs in (%s)' % res)
    p = subprocess.run([AGENT, '--cli', '--profile', profile, 'session',
                        'list'], capture_output=True, text=True,
                       timeout=DEADLINE_S)
    check(p.returncode == 0, 'and her token works: the relay asks no '
          'second factor of its own (%s)' % p.stderr.strip())
    b.send('Network.clearBrowserCookies')
    a = Agent(relay, profile)
    sign_in_form(b, relay, a.url, 'bob')
    st, res = a.finish()
    check(st != 0 and res['error']['code'] == 'mfa_required' and
          '(amr)' in res['error']['message'],
          'mfa_required: bob without it is refused (%s)' % res)
    relay.cmd('policy', 'unset', 'mfa_required')

    # outside every mapped group
    b.send('Network.clearBrowserCookies')
    a = Agent(relay, profile)
    sign_in_form(b, relay, a.url, 'carol')
    st, res = a.finish()
    check(st != 0 and res['error']['code'] == 'forbidden' and
          '(no_mapped_group)' in res['error']['message'],
          'a user in no mapped group: 403 forbidden (%s)' % res)

    gui(b, relay, issuer)

    # a further org with a group of its own: [oidc ORG]
    relay.cmd('org', 'add', 'branch', '--name', 'Branch')
    relay.cmd('group', 'add', 'techs', '--org', 'branch', '--permissions',
              'view')
    configure(relay, issuer, cert, '', group='oidc branch')
    b.send('Network.clearBrowserCookies')
    a = Agent(relay, profile, '--org', 'branch')
    sign_in_form(b, relay, a.url, 'alice')
    st, res = a.finish()
    check(st == 0 and res['org'] == 'branch',
          '[oidc branch]: alice signs in to the org branch (%s)' % res)
    for extra, why in ((['--org', ORG], 'not set up'),
                       ([], 'several orgs')):
        a = Agent(relay, profile, *extra, url=False)
        st, res = a.finish()
        check(st != 0 and res['error']['code'] == 'bad_request' and
              why in res['error']['message'],
              '%s: refused (%s)' % (extra or 'no org', res))

    # the provider down
    provider.stop()
    a = Agent(relay, profile, '--org', 'branch', url=False)
    st, res = a.finish()
    check(st != 0 and res['error']['code'] == 'directory_unavailable',
          'the provider down: 503 directory_unavailable (%s)' % res)


if __name__ == '__main__':
    main()
