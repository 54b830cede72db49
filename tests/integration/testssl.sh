#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# testssl.sh (Debian's /usr/bin/testssl) against a real lifeline-relay on
# 127.0.0.1 whose certificate a test CA signed: the scan must find nothing
# of severity MEDIUM or above.  The relay's log goes to
# LL_TEST_TMPDIR/logs/ like every other relay log (canary.sh reads it).
#
# Environment: LL_RELAY_BIN, LL_TEST_TMPDIR (set by meson); TESTSSL to use
# another testssl; LL_TESTSSL_TIMEOUT (seconds, default 420).
set -eu

: "${LL_RELAY_BIN:?LL_RELAY_BIN is not set}"
: "${LL_TEST_TMPDIR:?LL_TEST_TMPDIR is not set}"
TESTSSL=${TESTSSL:-/usr/bin/testssl}
LIMIT=${LL_TESTSSL_TIMEOUT:-420}

if [ ! -x "$TESTSSL" ]; then
	echo "testssl: $TESTSSL not found (apt-get install testssl.sh)" >&2
	exit 1
fi

dir=$LL_TEST_TMPDIR/testssl
logs=$LL_TEST_TMPDIR/logs
state=$dir/state
rm -rf "$dir"
mkdir -p "$state" "$logs"
chmod 700 "$state"
rm -f "$logs"/testssl-*

# A test CA and a leaf for localhost / 127.0.0.1 signed by it.  The leaf
# names a CRL and an OCSP responder (never served): testssl.sh rates a
# certificate without any revocation pointer HIGH.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$dir/ca.key" -out "$dir/ca.pem" -days 365 -sha256 \
	-subj "/O=Lifeline tests/CN=Lifeline Test CA" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" 2>"$dir/openssl.log"
cat >"$dir/leaf.ext" <<EOF
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
crlDistributionPoints=URI:http://127.0.0.1/lifeline-test.crl
authorityInfoAccess=OCSP;URI:http://127.0.0.1/ocsp
EOF
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$dir/leaf.key" -out "$dir/leaf.csr" \
	-subj "/O=Lifeline tests/CN=localhost" 2>>"$dir/openssl.log"
openssl x509 -req -in "$dir/leaf.csr" -CA "$dir/ca.pem" \
	-CAkey "$dir/ca.key" -set_serial "0x$(od -An -N8 -tx1 /dev/urandom |
	tr -d ' \n')" -days 365 -sha256 -extfile "$dir/leaf.ext" \
	-out "$dir/leaf.pem" 2>>"$dir/openssl.log"
chmod 600 "$dir/leaf.key" "$dir/ca.key"

cat >"$state/relay.conf" <<EOF
[relay]
cert_file=$dir/leaf.pem
key_file=$dir/leaf.key
EOF
"$LL_RELAY_BIN" init --state-dir "$state" >"$logs/testssl-admin.log" 2>&1 || {
	echo "testssl: lifeline-relay init failed:" >&2
	cat "$logs/testssl-admin.log" >&2
	exit 1
}

log=$logs/testssl-serve-1.log
"$LL_RELAY_BIN" serve --state-dir "$state" --listen 127.0.0.1:0 \
	</dev/null >"$log" 2>&1 &
pid=$!
cleanup() {
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
}
trap cleanup EXIT INT TERM

port=
i=0
while [ $i -lt 200 ]; do
	port=$(sed -n 's|.*listening on https://127\.0\.0\.1:\([0-9]*\).*|\1|p' \
		"$log" | head -n1)
	[ -n "$port" ] && break
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "testssl: relay exited before listening:" >&2
		cat "$log" >&2
		exit 1
	fi
	sleep 0.1
	i=$((i + 1))
done
if [ -z "$port" ]; then
	echo "testssl: relay did not log its port" >&2
	exit 1
fi
echo "relay pid $pid on 127.0.0.1:$port"

json=$dir/testssl.json
out=$dir/testssl.out
rc=0
# localhost (the certificate's DNS name) as the target, 127.0.0.1 as the
# address; only the test CA added to what testssl trusts.
timeout -k 10 "$LIMIT" "$TESTSSL" --quiet --color 0 --warnings off \
	--severity MEDIUM --jsonfile "$json" --add-ca "$dir/ca.pem" \
	--ip 127.0.0.1 --connect-timeout 10 --openssl-timeout 10 \
	"localhost:$port" >"$out" 2>&1 || rc=$?
echo "testssl exit status $rc; its report: $out"

fail=0
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
	echo "FAIL: testssl did not finish within $LIMIT s"
	fail=1
fi
if [ ! -s "$json" ]; then
	echo "FAIL: testssl wrote no JSON findings file"
	fail=1
elif ! jq -e 'type == "array"' "$json" >/dev/null; then
	echo "FAIL: $json is not a JSON array"
	fail=1
else
	# Findings at or above MEDIUM, and scan problems (FATAL: the scan
	# itself could not run as it should).
	bad=$(jq -r '.[] | select(.severity == "MEDIUM" or
		.severity == "HIGH" or .severity == "CRITICAL" or
		.severity == "FATAL") |
		"\(.severity) \(.id): \(.finding)"' "$json")
	if [ -n "$bad" ]; then
		echo "FAIL: testssl findings of severity MEDIUM or above:"
		echo "$bad" | sed 's/^/  /'
		fail=1
	fi
fi
# A scan that never reached the relay finds nothing: make sure it did.
if ! grep -q 'Testing protocols' "$out"; then
	echo "FAIL: testssl did not get to test the protocols"
	fail=1
fi
if ! kill -0 "$pid" 2>/dev/null; then
	echo "FAIL: the relay died during the scan"
	fail=1
else
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	if [ $st -ne 0 ]; then
		echo "FAIL: relay exit status $st after SIGTERM"
		fail=1
	fi
fi
if [ $fail -ne 0 ]; then
	echo "--- testssl report ---"
	cat "$out"
	exit 1
fi
echo "testssl: no finding of severity MEDIUM or above"
exit 0
