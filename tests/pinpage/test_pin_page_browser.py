#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The PIN page in real headless Chromium (Debian's chromium), for two
brands: the page loads with no console error and no CSP violation, a
wrong PIN shows the error, a right PIN shows the launch link and the
download (which arrives with the PIN trailer) -- with JavaScript and
without it, and both ways say the same words.  Screenshots of the empty,
error and success states (and 200% zoom) go to
artifacts/pin-page/BRAND-STATE.png.  Exit 77 (skip) without chromium."""

import functools
import http.server
import json
import os
import shutil
import struct
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pinpage_lib import Chromium, Relay, check, fail, header  # noqa: E402

SRC = os.environ['LL_SOURCE_ROOT']
ART = os.path.join(SRC, 'artifacts', 'pin-page')
ORG = 'example'

WAIT_ERROR = """new Promise(function (done) {
  var e = document.getElementById('pin-error');
  function look() { if (!e.hidden && e.textContent) done(e.textContent); }
  new MutationObserver(look).observe(e, {attributes: true,
                                         childList: true});
  look();
})"""
WAIT_RESULT = """new Promise(function (done) {
  var r = document.getElementById('result');
  function look() {
    if (!r.hidden) done({href: document.getElementById('launch').href,
      download: !document.getElementById('download-form').hidden,
      tech: document.getElementById('result-tech').textContent});
  }
  new MutationObserver(look).observe(r, {attributes: true});
  look();
})"""


def text_of(html):
    """The text of one element's outer HTML (no nested markup here)."""
    return html.split('>', 1)[1].rsplit('<', 1)[0]


def with_js(b, relay, brand, pin, dl_dir):
    b.send('Emulation.setScriptExecutionDisabled', {'value': False})
    b.navigate(relay.base + '/')
    check(b.evaluate('document.activeElement.id') == 'pin',
          '%s: the PIN field has the focus' % brand)
    b.screenshot(os.path.join(ART, '%s-empty.png' % brand))
    check(b.problems() == [], '%s: the page loads with no console error or '
          'CSP violation' % brand)
    wrong = '000000' if pin != '000000' else '111111'
    b.type_and_enter('#pin', wrong)
    err = b.evaluate(WAIT_ERROR)
    check('That PIN did not work' in err,
          '%s, JS: a wrong PIN shows the error' % brand)
    check(b.evaluate("document.getElementById('pin')"
                     ".getAttribute('aria-invalid')") == 'true',
          '%s, JS: the field is marked invalid' % brand)
    check(b.evaluate('location.pathname') == '/',
          '%s, JS: no page load' % brand)
    b.screenshot(os.path.join(ART, '%s-error.png' % brand))
    b.evaluate("document.getElementById('pin').value = ''")
    b.type_and_enter('#pin', pin)
    res = b.evaluate(WAIT_RESULT)
    check(res['href'] == 'lifeline:pin?code=%s&org=%s' % (pin, ORG),
          '%s, JS: a right PIN shows the launch link' % brand)
    check(res['download'] and res['tech'] == 'alice',
          '%s, JS: and the download, and who the technician is' % brand)
    b.screenshot(os.path.join(ART, '%s-success.png' % brand))

    # the download: the applet with the PIN trailer
    b.send('Browser.setDownloadBehavior',
           {'behavior': 'allow', 'downloadPath': dl_dir,
            'eventsEnabled': True}, session=False)
    b.click('#download-form button')
    done = b.wait_event('Browser.downloadProgress',
                        lambda p: p['state'] in ('completed', 'canceled'))
    check(done['state'] == 'completed', '%s: the download completes' % brand)
    got = open(os.path.join(dl_dir, 'applet.run'), 'rb').read()
    payload = ('pin=%s\norg=%s\n' % (pin, ORG)).encode()
    check(got.endswith(payload + struct.pack('>I', len(payload)) +
                       b'LLPINv1\n'), '%s: it carries the PIN' % brand)
    check(b.problems(allow_network=('/api/v1/pins/check',)) == [],
          '%s, JS: no console error or CSP violation' % brand)

    # 200% zoom: a 400 px wide viewport at twice the pixels
    b.send('Emulation.setDeviceMetricsOverride',
           {'width': 400, 'height': 700, 'deviceScaleFactor': 2,
            'mobile': False})
    b.navigate(relay.base + '/')
    check(b.evaluate('document.documentElement.scrollWidth <= '
                     'document.documentElement.clientWidth'),
          '%s: no sideways scrolling at 200%% zoom' % brand)
    b.screenshot(os.path.join(ART, '%s-zoom200.png' % brand))
    b.send('Emulation.clearDeviceMetricsOverride')
    return err


def without_js(b, relay, brand, pin, js_error):
    b.send('Emulation.setScriptExecutionDisabled', {'value': True})
    b.navigate(relay.base + '/o/%s/' % ORG)
    wrong = '000000' if pin != '000000' else '111111'
    b.drain()
    b.type_and_enter('#pin', wrong)
    b.wait_event('Page.loadEventFired')
    err = text_of(b.html('#pin-error'))
    check(err == js_error,
          '%s, no JS: the form post shows the same error' % brand)
    b.type_and_enter('#pin', pin)
    b.wait_event('Page.loadEventFired')
    launch = b.html('#launch')
    check('href="lifeline:pin?code=%s&amp;org=%s"' % (pin, ORG) in launch,
          '%s, no JS: a right PIN shows the launch link' % brand)
    check(' hidden' not in b.html('#download-form').split('>')[0],
          '%s, no JS: and the download' % brand)
    # the wrong PIN's page comes with its status, 404, which Chromium
    # logs as a failed load: that one is asked for
    check(b.problems(allow_network=('/api/v1/pins/check',
                                    '/o/%s/' % ORG)) == [],
          '%s, no JS: no other console error or CSP violation' % brand)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve_copy(relay, host):
    """The org's own copy of the PIN page (installers/pin-page/) on
    http://HOST:PORT/, as its README says to set it up."""
    d = os.path.join(relay.dir, 'copy-' + host)
    os.makedirs(d, exist_ok=True)
    src = os.path.join(SRC, 'installers', 'pin-page')
    html = open(os.path.join(src, 'index.html')).read()
    with open(os.path.join(d, 'index.html'), 'w') as f:
        f.write(html.replace('RELAY', relay.base).replace('ORG', ORG))
    for name in ('pin-page.js', 'pin-page.css'):
        shutil.copy(os.path.join(src, name), d)
    with open(os.path.join(d, 'logo.svg'), 'w') as f:
        f.write('<svg xmlns="http://www.w3.org/2000/svg" width="1" '
                'height="1"/>')
    srv = http.server.ThreadingHTTPServer(
        (host, 0), functools.partial(QuietHandler, directory=d))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, 'http://%s:%d' % (host, srv.server_port)


def audit(relay):
    return [json.loads(line) for line in
            relay.cmd('audit', 'export').stdout.splitlines()]


def check_refusals(relay, origin):
    return [r for r in audit(relay) if r['outcome'] == 'origin_not_allowed'
            and (r.get('detail') or {}).get('origin') == origin]


def checks_passed(relay):
    return len([r for r in audit(relay) if r['action'] == 'pin.check' and
                r['outcome'] == 'ok'])


def org_copies(b, relay):
    """Domain validation: the same page from an allowed origin redeems a
    website-locked PIN; a copy on another loopback origin cannot, with
    JavaScript or without."""
    good, good_origin = serve_copy(relay, '127.0.0.2')
    bad, bad_origin = serve_copy(relay, '127.0.0.3')
    try:
        relay.cmd('policy', 'set', 'allowed_origins', good_origin,
                  '--org', ORG)
        pin = relay.new_pin('website')
        passed = checks_passed(relay)
        b.send('Emulation.setScriptExecutionDisabled', {'value': False})
        b.navigate(bad_origin + '/')
        b.type_and_enter('#pin', pin)
        err = b.evaluate(WAIT_ERROR)
        check(err and b.evaluate(
            "document.getElementById('result').hidden"),
            'copy on a foreign origin, JS: no launch link (%s)' % err)
        # the preflight gave it no Access-Control-Allow-Origin, so the
        # browser never sent the check itself
        check(checks_passed(relay) == passed,
              'copy on a foreign origin, JS: no check passed')
        st, h, _ = relay.request('OPTIONS', '/api/v1/pins/check',
                                 headers={'Origin': bad_origin})
        check(not header(h, 'Access-Control-Allow-Origin'),
              'copy on a foreign origin: its preflight is refused')
        b.send('Emulation.setScriptExecutionDisabled', {'value': True})
        b.navigate(bad_origin + '/')
        b.type_and_enter('#pin', pin)
        b.wait_event('Page.loadEventFired')
        body = b.evaluate('document.body.innerHTML')
        check('lifeline:pin' not in body,
              'copy on a foreign origin, no JS: no launch link')
        check(any(check_refusals(relay, o)
                  for o in (bad_origin, 'null', '(none)')),
              'copy on a foreign origin, no JS: refused '
              'origin_not_allowed, audited')
        check(checks_passed(relay) == passed,
              'copy on a foreign origin, no JS: no check passed')

        b.send('Emulation.setScriptExecutionDisabled', {'value': False})
        b.navigate(good_origin + '/')
        b.type_and_enter('#pin', pin)
        res = b.evaluate(WAIT_RESULT)
        check(res['href'].startswith(
            'lifeline:pin?code=%s&org=%s&launch=' % (pin, ORG)),
            'copy on the allowed origin, JS: the launch link, with the '
            'launch token of a website PIN')
        launch = res['href'].split('&launch=', 1)[1]
        b.send('Emulation.setScriptExecutionDisabled', {'value': True})
        b.navigate(good_origin + '/')
        b.type_and_enter('#pin', pin)
        b.wait_event('Page.loadEventFired')
        check('launch=' + launch in b.evaluate('document.body.innerHTML'),
              'copy on the allowed origin, no JS: the same launch link')
        st, _, body = relay.request('POST', '/api/v1/pins/redeem',
                                    {'pin': pin, 'org': ORG})
        check(st == 403 and b'pin_locked_website' in body,
              'the website PIN without the launch token: refused')
        st, _, body = relay.request('POST', '/api/v1/pins/redeem',
                                    {'pin': pin, 'org': ORG,
                                     'launch': launch})
        check(st == 200, 'the applet the page launched redeems it')
    finally:
        good.shutdown()
        bad.shutdown()
        relay.cmd('policy', 'unset', 'allowed_origins', '--org', ORG)
    return pin


def one_brand(brand):
    relay = Relay('pinpage-browser-' + brand, org=ORG)
    applet = os.path.join(relay.dir, 'applet.run')
    with open(applet, 'wb') as f:
        f.write(b'#!/bin/sh\necho portable applet\n')
    with open(os.path.join(relay.state, 'relay.conf'), 'a') as f:
        f.write('brand_dir = %s/branding/%s\nportable_applet = %s\n' %
                (SRC, brand, applet))
    relay.start()
    b = None
    try:
        relay.technician()
        pin = relay.new_pin()
        b = Chromium(['--ignore-certificate-errors-spki-list=' +
                      relay.spki(), '--window-size=800,900'])
        b.open_page()
        b.send('Emulation.setDeviceMetricsOverride',
               {'width': 800, 'height': 900, 'deviceScaleFactor': 1,
                'mobile': False})
        dl_dir = os.path.join(relay.dir, 'downloads')
        os.makedirs(dl_dir, exist_ok=True)
        err = with_js(b, relay, brand, pin, dl_dir)
        without_js(b, relay, brand, pin, err)
        if brand == 'default':
            pin2 = org_copies(b, relay)
    finally:
        try:
            if b is not None:
                b.close()
        finally:
            relay.stop()
    check(pin not in relay.log(), '%s: no PIN in the relay log' % brand)
    if brand == 'default':
        check(pin2 not in relay.log(), 'no PIN of the copies in the log')


def main():
    if shutil.which('chromium') is None:
        print('SKIP: chromium is not installed (apt-get install chromium; '
              'scripts/deps.sh installs it)')
        sys.exit(77)
    for brand in ('default', 'example-corp'):
        one_brand(brand)


if __name__ == '__main__':
    main()
