# SPDX-License-Identifier: GPL-2.0-or-later
"""The PIN page tests' helpers: a real relay on 127.0.0.1 (as the C
harness tests/integration/harness.h starts one), an HTTPS client that
trusts only that relay's certificate, and a Chromium driven through the
DevTools protocol on a pipe (--remote-debugging-pipe: no port, no
websocket).  Every wait is for an event (a log line, a CDP event or
answer) with a deadline, never for time."""

import base64
import hashlib
import http.client
import json
import os
import queue
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time

DEADLINE_S = 30


def fail(msg):
    print('FAIL: ' + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)
    print('ok: ' + msg)


class Relay:
    """lifeline-relay init + serve in LL_TEST_TMPDIR/NAME."""

    def __init__(self, name, org='example', conf=''):
        self.bin = os.environ['LL_RELAY_BIN']
        self.dir = os.path.join(os.environ['LL_TEST_TMPDIR'], name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.state = os.path.join(self.dir, 'state')
        self.org = org
        self.cmd('init', '--org', org)
        with open(os.path.join(self.state, 'relay.conf'), 'w') as f:
            f.write('[relay]\n' + conf)
        self.log_path = os.path.join(self.dir, 'relay.log')
        self.proc = None
        self.lines = []
        self.cond = threading.Condition()

    def cmd(self, *args, stdin=None, ok=True):
        p = subprocess.run([self.bin] + list(args) +
                           ['--state-dir', self.state],
                           input=stdin, capture_output=True, text=True,
                           timeout=60)
        if ok and p.returncode != 0:
            fail('lifeline-relay %s: %s' % (' '.join(args), p.stderr))
        return p

    def _read(self):
        with open(self.log_path, 'a') as log:
            for line in self.proc.stderr:
                log.write(line)
                log.flush()
                with self.cond:
                    self.lines.append(line)
                    self.cond.notify_all()
        with self.cond:
            self.lines.append(None)  # exited
            self.cond.notify_all()

    def wait_log(self, needle, timeout=DEADLINE_S):
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines:
                    if line is not None and needle in line:
                        return line
                if None in self.lines:
                    fail('the relay exited before "%s"' % needle)
                left = end - time.monotonic()
                if left <= 0:
                    fail('no "%s" in the relay log within %d s' %
                         (needle, timeout))
                self.cond.wait(left)

    def start(self):
        self.proc = subprocess.Popen(
            [self.bin, 'serve', '--state-dir', self.state,
             '--listen', '127.0.0.1:0'],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        line = self.wait_log('listening on https://')
        self.port = int(line.rsplit(':', 1)[1])
        self.base = 'https://127.0.0.1:%d' % self.port
        self.ctx = ssl.create_default_context(
            cafile=os.path.join(self.state, 'cert.pem'))

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=DEADLINE_S)

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def spki(self):
        """base64(SHA-256(SPKI)) of the relay's certificate, for
        Chromium's --ignore-certificate-errors-spki-list."""
        pem = open(os.path.join(self.state, 'cert.pem')).read()
        pub = subprocess.run(['openssl', 'x509', '-pubkey', '-noout'],
                             input=pem, capture_output=True, text=True,
                             check=True).stdout
        der = subprocess.run(['openssl', 'pkey', '-pubin', '-outform',
                              'der'], input=pub.encode(),
                             capture_output=True, check=True).stdout
        return base64.b64encode(hashlib.sha256(der).digest()).decode()

    def request(self, method, path, body=None, headers=None):
        """(status, headers as a list of (name, value), body bytes)."""
        c = http.client.HTTPSConnection('127.0.0.1', self.port,
                                        context=self.ctx,
                                        timeout=DEADLINE_S)
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers = dict(headers or {},
                           **{'Content-Type': 'application/json'})
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, r.getheaders(), data

    def technician(self, user='alice', password='Page-Test-Pass-42'):
        self.cmd('technician', 'add', user, '--password-stdin',
                 stdin=password + '\n')
        st, _, body = self.request('POST', '/api/v1/login',
                                   {'username': user, 'password': password})
        if st != 200:
            fail('login: %d %s' % (st, body))
        self.token = json.loads(body)['token']

    def new_pin(self, lock=None):
        st, _, body = self.request(
            'POST', '/api/v1/sessions', {'lock': lock} if lock else {},
            {'Authorization': 'Bearer ' + self.token})
        if st != 201:
            fail('new PIN: %d %s' % (st, body))
        return json.loads(body)['pin']


def header(headers, name):
    """Every value of a header (the relay sends each once)."""
    return [v for k, v in headers if k.lower() == name.lower()]


class Chromium:
    """Headless Chromium on --remote-debugging-pipe (fd 3 in, fd 4 out;
    messages are JSON ended by a NUL byte)."""

    def __init__(self, extra_args):
        self.dir = tempfile.mkdtemp(prefix='ll-chromium-')
        cmd_r, self.cmd_w = os.pipe()
        self.res_r, res_w = os.pipe()

        def child_fds():
            os.dup2(cmd_r, 3)
            os.dup2(res_w, 4)

        args = ['chromium', '--headless', '--remote-debugging-pipe',
                '--user-data-dir=' + self.dir, '--no-first-run',
                '--no-default-browser-check', '--disable-gpu',
                '--disable-extensions', '--disable-sync',
                '--disable-background-networking',
                '--disable-component-update', '--hide-scrollbars',
                '--font-render-hinting=none']
        if os.geteuid() == 0:
            args.append('--no-sandbox')  # root: no user namespace sandbox
        self.proc = subprocess.Popen(args + extra_args + ['about:blank'],
                                     pass_fds=(cmd_r, res_w, 3, 4),
                                     preexec_fn=child_fds,
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(
                                         self.dir, 'chromium.log'), 'w'))
        os.close(cmd_r)
        os.close(res_w)
        self.next_id = 0
        self.answers = {}
        self.events = queue.Queue()
        self.seen = []  # every event, for the error checks
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        self.session = None

    def _read(self):
        buf = b''
        f = os.fdopen(self.res_r, 'rb', buffering=0)
        while True:
            chunk = f.read(65536)
            if not chunk:
                break
            buf += chunk
            while b'\0' in buf:
                raw, buf = buf.split(b'\0', 1)
                msg = json.loads(raw)
                with self.cond:
                    if 'id' in msg:
                        self.answers[msg['id']] = msg
                    else:
                        self.seen.append(msg)
                        self.events.put(msg)
                    self.cond.notify_all()

    def send(self, method, params=None, session=True, timeout=DEADLINE_S):
        self.next_id += 1
        mid = self.next_id
        msg = {'id': mid, 'method': method, 'params': params or {}}
        if session and self.session:
            msg['sessionId'] = self.session
        os.write(self.cmd_w, json.dumps(msg).encode() + b'\0')
        end = time.monotonic() + timeout
        with self.cond:
            while mid not in self.answers:
                left = end - time.monotonic()
                if left <= 0:
                    fail('no answer to %s within %d s' % (method, timeout))
                self.cond.wait(left)
            ans = self.answers.pop(mid)
        if 'error' in ans:
            fail('%s: %s' % (method, ans['error']))
        return ans.get('result', {})

    def wait_event(self, method, pred=lambda p: True, timeout=DEADLINE_S):
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                fail('no %s within %d s' % (method, timeout))
            try:
                ev = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if ev.get('method') == method and pred(ev.get('params', {})):
                return ev['params']

    def open_page(self):
        t = self.send('Target.createTarget', {'url': 'about:blank'},
                      session=False)
        a = self.send('Target.attachToTarget',
                      {'targetId': t['targetId'], 'flatten': True},
                      session=False)
        self.session = a['sessionId']
        for d in ('Page.enable', 'Runtime.enable', 'Log.enable',
                  'DOM.enable'):
            self.send(d)

    def drain(self):
        while True:
            try:
                self.events.get_nowait()
            except queue.Empty:
                return

    def navigate(self, url):
        self.drain()
        self.send('Page.navigate', {'url': url})
        self.wait_event('Page.loadEventFired')

    def node(self, selector):
        doc = self.send('DOM.getDocument', {'depth': 0})
        n = self.send('DOM.querySelector',
                      {'nodeId': doc['root']['nodeId'],
                       'selector': selector})
        if not n.get('nodeId'):
            fail('no %s on the page' % selector)
        return n['nodeId']

    def html(self, selector):
        return self.send('DOM.getOuterHTML',
                         {'nodeId': self.node(selector)})['outerHTML']

    def type_and_enter(self, selector, text):
        self.send('DOM.focus', {'nodeId': self.node(selector)})
        self.send('Input.insertText', {'text': text})
        for kind in ('keyDown', 'keyUp'):
            self.send('Input.dispatchKeyEvent',
                      {'type': kind, 'key': 'Enter', 'code': 'Enter',
                       'windowsVirtualKeyCode': 13,
                       'text': '\r' if kind == 'keyDown' else ''})

    def click(self, selector):
        box = self.send('DOM.getBoxModel',
                        {'nodeId': self.node(selector)})['model']['content']
        x = (box[0] + box[2]) / 2
        y = (box[1] + box[5]) / 2
        for kind in ('mousePressed', 'mouseReleased'):
            self.send('Input.dispatchMouseEvent',
                      {'type': kind, 'x': x, 'y': y, 'button': 'left',
                       'clickCount': 1})

    def evaluate(self, expr, timeout=DEADLINE_S):
        r = self.send('Runtime.evaluate',
                      {'expression': expr, 'awaitPromise': True,
                       'returnByValue': True}, timeout=timeout)
        if 'exceptionDetails' in r:
            fail('page script: %s' % r['exceptionDetails'])
        return r['result'].get('value')

    def screenshot(self, path):
        png = self.send('Page.captureScreenshot',
                        {'format': 'png', 'captureBeyondViewport': True})
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as f:
            f.write(base64.b64decode(png['data']))
        print('screenshot: ' + path)

    def problems(self, allow_network=()):
        """Console errors, exceptions, CSP violations and failed loads
        seen so far; a failed load of a URL ending in one of
        allow_network is what the test asked for (a wrong PIN's 404)."""
        out = []
        with self.cond:
            seen = list(self.seen)
        for ev in seen:
            m, p = ev.get('method'), ev.get('params', {})
            if m == 'Runtime.exceptionThrown':
                out.append('exception: %s' % p['exceptionDetails'])
            elif m == 'Runtime.consoleAPICalled' and p['type'] in (
                    'error', 'assert', 'warning'):
                out.append('console %s: %s' % (p['type'], p['args']))
            elif m == 'Log.entryAdded':
                e = p['entry']
                if e['level'] not in ('error', 'warning'):
                    continue
                if (e.get('source') == 'network' and
                        any(e.get('url', '').endswith(a)
                            for a in allow_network)):
                    continue
                out.append('log %s/%s: %s %s' % (
                    e.get('source'), e['level'], e.get('text'),
                    e.get('url', '')))
        for line in out:
            print('browser: ' + line)
        return out

    def close(self):
        try:
            self.send('Browser.close', session=False, timeout=10)
        except (SystemExit, OSError):
            pass  # already gone: the kill below is enough
        try:
            self.proc.wait(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
