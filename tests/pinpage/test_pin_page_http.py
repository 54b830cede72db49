#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The PIN page over plain HTTPS: headers of the page and its files, the
form without JavaScript, checks that never redeem, the guess budget spent
by every kind of check, CORS for allowed_origins (exact, never *), the
OPTIONS preflight, website-locked PINs, the download's trailer, and no
PIN in the relay's log."""

import json
import os
import re
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pinpage_lib import Relay, check, fail, header  # noqa: E402

SRC = os.environ['LL_SOURCE_ROOT']
ALLOWED = 'https://help.example.com'
OTHER = 'https://evil.example.net'
FORM = {'Content-Type': 'application/x-www-form-urlencoded'}


def page_headers(relay):
    st, h, body = relay.request('GET', '/')
    check(st == 200, 'GET / answers the page')
    ctype = header(h, 'Content-Type')
    check(ctype == ['text/html; charset=utf-8'], 'the page is HTML')
    csp = header(h, 'Content-Security-Policy')
    check(len(csp) == 1, 'one Content-Security-Policy')
    for part in ("default-src 'none'", "script-src 'self'",
                 "style-src 'self'", "form-action 'self'",
                 "frame-ancestors 'none'"):
        check(part in csp[0], 'the page CSP has ' + part)
    check("'unsafe-inline'" not in csp[0], 'no inline script or style')
    for name, want in (('X-Content-Type-Options', 'nosniff'),
                       ('Referrer-Policy', 'no-referrer'),
                       ('Cache-Control', 'no-store')):
        check(header(h, name) == [want], '%s: %s' % (name, want))
    text = body.decode()
    check('Example Corp' in text, 'the brand\'s organisation is shown')
    check('<script>' not in text and 'style=' not in text,
          'no inline script or style in the page')
    check('http://' not in text.replace('https://help.example.com', '')
          and 'src="https:' not in text, 'no external resource')
    for path, ctype in (('/o/example/', 'text/html; charset=utf-8'),
                        ('/o/example/pin-page.css', 'text/css; charset=utf-8'),
                        ('/o/example/pin-page.js',
                         'text/javascript; charset=utf-8'),
                        ('/o/example/logo', 'image/svg+xml')):
        st, h, _ = relay.request('GET', path)
        check(st == 200 and header(h, 'Content-Type') == [ctype],
              'GET %s is %s' % (path, ctype))
    st, h, _ = relay.request('GET', '/o/example/logo')
    check('sandbox' in header(h, 'Content-Security-Policy')[0],
          'the logo is sandboxed')
    st, _, body = relay.request('GET', '/o/nobody/')
    check(st == 404 and b'no support page' in body,
          'an unknown org is a 404 page')
    recs = [json.loads(line) for line in
            relay.cmd('audit', 'export').stdout.splitlines()]
    check(not [r for r in recs if r['action'] == 'page.view' and
               r['outcome'] == 'ok'],
          'loading the page writes no audit record (its refusals do)')


def budget(relay):
    pin = relay.new_pin()
    # checks never redeem: twice right, then the redeem still works
    for via in ('page', 'api'):
        if via == 'page':
            st, _, body = relay.request('POST', '/o/example/',
                                        'pin=' + pin, FORM)
            check(st == 200 and b'lifeline:pin?code=' + pin.encode() +
                  b'&amp;org=example' in body,
                  'the form shows the launch link')
        else:
            st, _, body = relay.request('POST', '/api/v1/pins/check',
                                        {'pin': pin, 'org': 'example'})
            j = json.loads(body)
            check(st == 200 and j['launch_uri'] ==
                  'lifeline:pin?code=%s&org=example' % pin and
                  j['download'] is True and
                  j['download_path'] == '/o/example/applet',
                  'pins/check answers the launch link and the download')
    st, h, body = relay.request('POST', '/o/example/applet', 'pin=' + pin,
                                FORM)
    applet = open(os.path.join(relay.dir, 'applet.run'), 'rb').read()
    payload = ('pin=%s\norg=example\n' % pin).encode()
    check(st == 200 and body == applet + payload +
          struct.pack('>I', len(payload)) + b'LLPINv1\n',
          'the download is the applet with the PIN trailer')
    check(header(h, 'Content-Disposition') ==
          ['attachment; filename="applet.run"'], 'offered as a file')
    st, _, _ = relay.request('POST', '/api/v1/pins/redeem',
                             {'pin': pin, 'org': 'example'})
    check(st == 200, 'the PIN still redeems after three checks')

    # every kind of failed check spends the org's budget (3 left)
    pin2 = relay.new_pin()
    wrong = '000000' if pin2 != '000000' else '111111'
    st, _, body = relay.request('POST', '/o/example/', 'pin=' + wrong, FORM)
    check(st == 404 and b'That PIN did not work' in body,
          'a wrong PIN on the form: the page says so')
    st, _, body = relay.request('POST', '/api/v1/pins/check',
                                {'pin': wrong, 'org': 'example'})
    check(st == 404 and json.loads(body)['error']['code'] == 'pin_invalid',
          'a wrong PIN on pins/check: pin_invalid')
    st, _, body = relay.request('POST', '/o/example/applet',
                                'pin=' + wrong, FORM)
    check(st == 404, 'a wrong PIN for the download: refused')
    st, h, body = relay.request('POST', '/api/v1/pins/redeem',
                                {'pin': pin2, 'org': 'example'})
    check(st == 429 and header(h, 'Retry-After'),
          'after three failed checks the right PIN is refused: the '
          'budget is spent')
    st, _, body = relay.request('POST', '/o/example/', 'pin=' + pin2, FORM)
    check(st == 429 and b'too many tries' in body,
          'the page says so in plain words')
    st, _, body = relay.request('GET', '/metrics')
    check(b'lifeline_redeem_failures_total{scope="org"} 8' in body,
          'the failures are counted against the org')
    st, _, body = relay.request('POST', '/o/example/', 'pin=1&pin=2', FORM)
    check(st == 400, 'a form that repeats a field is refused')


def cors(relay):
    for bad in ('https://a.example/', '*', 'null', 'https://a,',
                'https://a.example/x', 'ftp://a.example'):
        p = relay.cmd('policy', 'set', 'allowed_origins', bad, ok=False)
        check(p.returncode == 2, 'allowed_origins refuses %r' % bad)
    # as an admin may write them: kept as a browser sends them
    relay.cmd('policy', 'set', 'allowed_origins',
              'HTTPS://Help.Example.com.:443, https://other.example.com:8443')
    shown = relay.cmd('policy', 'show', '--json').stdout
    check(json.loads(shown)['allowed_origins'] ==
          ALLOWED + ',https://other.example.com:8443',
          'allowed_origins are normalised (case, trailing dot, port)')
    for path in ('/api/v1/pins/check', '/api/v1/pins/redeem'):
        st, h, _ = relay.request('OPTIONS', path, headers={
            'Origin': ALLOWED, 'Access-Control-Request-Method': 'POST',
            'Access-Control-Request-Headers': 'content-type'})
        check(st == 204 and
              header(h, 'Access-Control-Allow-Origin') == [ALLOWED] and
              header(h, 'Vary') == ['Origin'] and
              header(h, 'Access-Control-Allow-Methods') == ['POST'],
              'preflight of %s: the allowed origin, exactly' % path)
        st, h, _ = relay.request('OPTIONS', path, headers={
            'Origin': OTHER, 'Access-Control-Request-Method': 'POST'})
        check(st == 204 and not header(h, 'Access-Control-Allow-Origin')
              and header(h, 'Vary') == ['Origin'],
              'preflight of %s: another origin gets no ACAO' % path)
    pin = relay.new_pin()
    st, h, _ = relay.request('POST', '/api/v1/pins/check',
                             {'pin': pin, 'org': 'example'},
                             {'Origin': ALLOWED})
    check(st == 200 and
          header(h, 'Access-Control-Allow-Origin') == [ALLOWED],
          'a check from the allowed origin may be read by it')
    st, h, _ = relay.request('POST', '/api/v1/pins/check',
                             {'pin': pin, 'org': 'example'},
                             {'Origin': OTHER})
    check(st == 403 and not header(h, 'Access-Control-Allow-Origin') and
          header(h, 'Vary') == ['Origin'], 'another origin may not')
    st, h, _ = relay.request('POST', '/api/v1/pins/check',
                             {'pin': pin, 'org': 'example'},
                             {'Origin': ALLOWED.upper()})
    check(st == 403 and not header(h, 'Access-Control-Allow-Origin'),
          'origins match exactly (no case folding)')

    locked = relay.new_pin('website')
    st, _, body = relay.request('POST', '/api/v1/pins/redeem',
                                {'pin': locked, 'org': 'example'})
    check(st == 403 and b'pin_locked_website' in body,
          'a website-locked PIN without Origin is refused')
    st, _, body = relay.request('POST', '/api/v1/pins/redeem',
                                {'pin': locked, 'org': 'example'},
                                {'Origin': OTHER})
    check(st == 403 and b'origin_not_allowed' in body,
          'from an origin not allowed: origin_not_allowed')
    st, h, body = relay.request('POST', '/api/v1/pins/redeem',
                                {'pin': locked, 'org': 'example'},
                                {'Origin': ALLOWED})
    check(st == 200 and 'ticket' in json.loads(body) and
          header(h, 'Access-Control-Allow-Origin') == [ALLOWED],
          'from an allowed origin the website-locked PIN redeems')
    relay.cmd('policy', 'unset', 'allowed_origins')
    st, h, _ = relay.request('OPTIONS', '/api/v1/pins/check',
                             headers={'Origin': ALLOWED})
    check(not header(h, 'Access-Control-Allow-Origin'),
          'unset: no origin passes the preflight')
    return [pin, locked]


def website_download(relay):
    """A website-locked PIN downloaded from the relay's own page: the
    trailer carries the page's launch token after the PIN and org, and
    with it the PIN redeems as from the page's link."""
    locked = relay.new_pin('website')
    page = dict(FORM, **{'Sec-Fetch-Site': 'same-origin'})
    st, _, body = relay.request('POST', '/o/example/applet',
                                'pin=' + locked, page)
    applet = open(os.path.join(relay.dir, 'applet.run'), 'rb').read()
    check(st == 200 and body.startswith(applet), 'the download of a '
          'website-locked PIN is the applet with a trailer')
    tail = body[len(applet):]
    (n,) = struct.unpack('>I', tail[-12:-8])
    payload = tail[:-12].decode()
    m = re.fullmatch('pin=%s\norg=example\nlaunch=([0-9a-f]{64})\n' %
                     locked, payload)
    check(tail[-8:] == b'LLPINv1\n' and n == len(payload) and m,
          'its trailer: pin, org and the launch token')
    st, _, body = relay.request('POST', '/api/v1/pins/redeem',
                                {'pin': locked, 'org': 'example'})
    check(st == 403 and b'pin_locked_website' in body,
          'without the token the downloaded PIN is still locked')
    st, _, body = relay.request('POST', '/api/v1/pins/redeem',
                                {'pin': locked, 'org': 'example',
                                 'launch': m.group(1)})
    check(st == 200 and 'ticket' in json.loads(body),
          'with the trailer\'s token it redeems, as the download does')
    return [locked, m.group(1)]


def main():
    relay = Relay('pinpage-http', conf=(
        'brand_dir = %s/branding/example-corp\n'
        'portable_applet = applet.run\n' % SRC))
    with open(os.path.join(relay.state, 'applet.run'), 'wb') as f:
        f.write(b'#!/bin/sh\necho portable applet\n' + bytes(range(256)))
    os.replace(os.path.join(relay.state, 'applet.run'),
               os.path.join(relay.dir, 'applet.run'))
    with open(os.path.join(relay.state, 'relay.conf'), 'a') as f:
        f.write('portable_applet = %s/applet.run\n' % relay.dir)
    # the second portable_applet line must be refused: strict config
    p = relay.cmd('serve', '--listen', '127.0.0.1:0', ok=False)
    check(p.returncode != 0 and 'portable_applet' in p.stderr,
          'a duplicate relay.conf key stops the relay')
    with open(os.path.join(relay.state, 'relay.conf'), 'w') as f:
        f.write('[relay]\nbrand_dir = %s/branding/example-corp\n'
                'portable_applet = %s/applet.run\n' % (SRC, relay.dir))
    relay.start()
    try:
        relay.technician()
        page_headers(relay)
        secrets = website_download(relay)
        pins = cors(relay) + secrets
        # website_download() spent 1 guess (the PIN without its token),
        # cors() 4 (two foreign origins, the locked PIN's two
        # refusals): 3 more
        relay.cmd('policy', 'set', 'redeem_fail_budget', '8')
        budget(relay)
    finally:
        relay.stop()
    log = relay.log()
    for p in pins:
        check(p not in log, 'the PIN never shows up in the relay log')
    bad = Relay('pinpage-badbrand', conf='brand_dir = %s/tests/unit/brands/bad-contrast'
                '\n' % SRC)
    p = bad.cmd('serve', '--listen', '127.0.0.1:0', ok=False)
    check(p.returncode == 1 and 'not a valid brand' in p.stderr,
          'a brand_dir that is no brand stops the relay: ' +
          p.stderr.strip().splitlines()[-1])


if __name__ == '__main__':
    main()
