#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The PIN page in real headless Chromium (Debian's chromium), for two
brands: the page loads with no console error and no CSP violation, a
wrong PIN shows the error, a right PIN shows the launch link and the
download (which arrives with the PIN trailer) -- with JavaScript and
without it, and both ways say the same words.  Screenshots of the empty,
error and success states (and 200% zoom) go to
artifacts/pin-page/BRAND-STATE.png.  Exit 77 (skip) without chromium."""

import os
import shutil
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pinpage_lib import Chromium, Relay, check, fail  # noqa: E402

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
    finally:
        try:
            if b is not None:
                b.close()
        finally:
            relay.stop()
    check(pin not in relay.log(), '%s: no PIN in the relay log' % brand)


def main():
    if shutil.which('chromium') is None:
        print('SKIP: chromium is not installed (apt-get install chromium; '
              'scripts/deps.sh installs it)')
        sys.exit(77)
    for brand in ('default', 'example-corp'):
        one_brand(brand)


if __name__ == '__main__':
    main()
