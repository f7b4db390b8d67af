#!/bin/sh
# TLS peer verification is always on (issue 9, item 5). A test CA and a
# server certificate for 127.0.0.1 are made with openssl in $T; badserver
# serves HTTPS with it on 127.0.0.1. Without that CA every tool refuses the
# server (exit 3, one line naming the certificate problem) before a single
# request reaches it; AWS_CA_BUNDLE, or ca_bundle in the profile, makes the
# AWS tools accept it; a certificate from another CA, or for another host
# name, is refused even so; AWS_CA_BUNDLE comes before the profile's.
. "$(dirname "$0")/lib.sh"
. "$COINPIPE_TOP/tests/servers/badserver.sh"
B=$COINPIPE_BIN
: >"$T/empty"
export AWS_CONFIG_FILE="$T/empty" AWS_SHARED_CREDENTIALS_FILE="$T/empty"
export AWS_MAX_ATTEMPTS=1
unset AWS_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR CURL_CA_BUNDLE

# ca NAME: a CA certificate $T/NAME.pem and key; cert NAME CA SAN: a server
# certificate $T/NAME.pem signed by CA for the subjectAltName SAN.
ca() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
	    -keyout "$T/$1.key" -out "$T/$1.pem" -subj "/CN=coinpipe $1" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>"$T/openssl.err"
}
cert() {
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
	    "$3" >"$T/$1.ext"
	openssl req -newkey rsa:2048 -nodes -keyout "$T/$1.key" \
	    -out "$T/$1.csr" -subj "/CN=$1" 2>"$T/openssl.err" &&
	openssl x509 -req -in "$T/$1.csr" -CA "$T/$2.pem" -CAkey "$T/$2.key" \
	    -CAcreateserial -days 2 -extfile "$T/$1.ext" -out "$T/$1.pem" \
	    2>"$T/openssl.err"
}
ca testca && ca otherca && cert srv testca IP:127.0.0.1 &&
    cert other otherca IP:127.0.0.1 && cert named testca DNS:aws.coinpipe.test ||
    { cat "$T/openssl.err"; bail "openssl made the certificates"; }

# tool NAME URL [VAR=VALUE...]: runs the tool against URL with those
# variables set; output in $T/NAME.out and $T/NAME.err.
tool() {
	_t=$1 _u=$2; shift 2
	case $_t in
	kin-put)
		printf '{"n":1}\n' | env "$@" "$B/kin-put" --endpoint-url "$_u" \
		    -s s ;;
	kin-get)
		env "$@" "$B/kin-get" --endpoint-url "$_u" -s s ;;
	s3-putcsv)
		printf '{"n":1}\n' | env "$@" "$B/s3-putcsv" --endpoint-url "$_u" \
		    s3://b/p ;;
	gecko-fetch)
		env "$@" "$B/gecko-fetch" --retries 0 -b "$_u/api/v3" bitcoin ;;
	esac >"$T/$_t.out" 2>"$T/$_t.err"
}

# refused NAME WHY [VAR=VALUE...]: the tool refuses the server, exit 3,
# the first line of stderr says why; badserver saw no request.
refused() {
	_rt=$1 _rw="$1 [$2]"; shift 2
	_n=$(bad_count True)
	tool "$_rt" "$BAD_URL" "$@"
	is "$?" 3 "$_rw: refused, exit 3"
	like "$(head -n 1 "$T/$_rt.err")" \
	    "^$_rt: .*https://127\.0\.0\.1:$BAD_PORT/.*: SSL" \
	    "$_rw: one line naming the URL and the TLS problem"
	is "$(bad_count True)" "$_n" "$_rw: no request reached the server"
}

# accepted NAME WHY [VAR=VALUE...]: exit 0 and the server saw the request.
accepted() {
	_rt=$1 _rw="$1 [$2]"; shift 2
	_n=$(bad_count True)
	tool "$_rt" "$BAD_URL" "$@"
	_rc=$?
	is "$_rc" 0 "$_rw: accepted, exit 0"
	[ "$_rc" = 0 ] || sed 's/^/#   /' "$T/$_rt.err"
	ok $(($(bad_count True) <= _n)) "$_rw: the requests reached the server"
}

bad_start --tls-cert "$T/srv.pem" --tls-key "$T/srv.key" || bail "badserver TLS"
for t in kin-put kin-get s3-putcsv gecko-fetch; do
	refused $t "no CA"
done
like "$(head -n 1 "$T/kin-put.err")" 'unable to get local issuer certificate' \
    "kin-put [no CA]: says the issuer is unknown"

# AWS_CA_BUNDLE, then the profile's ca_bundle, then both.
printf '[default]\nca_bundle = %s\n[profile other]\nca_bundle = %s\n' \
    "$T/testca.pem" "$T/otherca.pem" >"$T/config"
for t in kin-put kin-get s3-putcsv; do
	accepted $t "AWS_CA_BUNDLE" AWS_CA_BUNDLE="$T/testca.pem"
	refused $t "AWS_CA_BUNDLE of another CA" AWS_CA_BUNDLE="$T/otherca.pem"
	accepted $t "ca_bundle in the profile" AWS_CONFIG_FILE="$T/config"
	accepted $t "AWS_CA_BUNDLE before the profile's ca_bundle" \
	    AWS_CONFIG_FILE="$T/config" AWS_PROFILE=other \
	    AWS_CA_BUNDLE="$T/testca.pem"
	refused $t "ca_bundle of another CA" AWS_CONFIG_FILE="$T/config" \
	    AWS_PROFILE=other
done
bad_stop

# The right CA, but a certificate for another name: the host is checked.
bad_start --tls-cert "$T/named.pem" --tls-key "$T/named.key" ||
    bail "badserver TLS (named)"
for t in kin-put kin-get s3-putcsv; do
	refused $t "certificate for another host" AWS_CA_BUNDLE="$T/testca.pem"
done
like "$(head -n 1 "$T/kin-put.err")" \
    "certificate subject name .*does not match|no alternative certificate subject name|127\.0\.0\.1" \
    "kin-put [another host]: says the name does not match"
bad_stop

# A certificate by another CA entirely (the server switched): refused.
bad_start --tls-cert "$T/other.pem" --tls-key "$T/other.key" ||
    bail "badserver TLS (other CA)"
for t in kin-put gecko-fetch; do
	refused $t "server certificate of another CA" \
	    AWS_CA_BUNDLE="$T/testca.pem"
done
bad_stop

done_testing
