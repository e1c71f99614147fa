#!/bin/sh
# Generate everything deploy/compose.yaml needs that must not be committed:
#   deploy/secrets/{jwt_private.pem,jwt_public.pem,field_key,match_key,
#                   gateway_field_key,audit_signing_key.pem,audit_signing_public.pem}
#   deploy/.env                      (random passwords, from .env.example)
#   password_hash values in deploy/rabbitmq/definitions.json
#
# Idempotent: existing files and already-filled values are kept, so running it
# twice never rotates a key by accident. Needs openssl (1.1.1+ for Ed25519).
#
#   sh deploy/secrets/generate.sh
set -eu

secrets_dir=$(cd "$(dirname "$0")" && pwd)
deploy_dir=$(dirname "$secrets_dir")
env_file="$deploy_dir/.env"
definitions="$deploy_dir/rabbitmq/definitions.json"

umask 077
chmod 700 "$secrets_dir"

command -v openssl >/dev/null 2>&1 || { echo "openssl is required" >&2; exit 1; }

# --- key files --------------------------------------------------------------
ed25519_pair() { # private public
    if [ ! -s "$secrets_dir/$1" ]; then
        openssl genpkey -algorithm ed25519 -out "$secrets_dir/$1"
        openssl pkey -in "$secrets_dir/$1" -pubout -out "$secrets_dir/$2"
        echo "created $1, $2"
    fi
}
random_key() { # file: 32 random bytes, base64, one line
    if [ ! -s "$secrets_dir/$1" ]; then
        openssl rand -base64 32 > "$secrets_dir/$1"
        echo "created $1"
    fi
}

# JWT: tokens are signed with the private key (the gateway, for the person
# signed in) and verified by every service with the public key.
ed25519_pair jwt_private.pem jwt_public.pem
# Audit checkpoint signatures (audit only); publish the public half to
# whoever verifies checkpoints.
ed25519_pair audit_signing_key.pem audit_signing_public.pem
# Intake only: AEAD key for personal fields, and the separate key of the keyed
# hash that recognises a returning youth.
random_key field_key
random_key match_key
# Gateway only: seals the web application's TOTP secrets. Its own key, so the
# gateway never holds intake's.
random_key gateway_field_key

# Compose bind-mounts secret files as they are on the host, and the containers
# run as uid 10001, so every mounted file must be world-readable, private keys
# included (jwt_private.pem is mounted into the gateway, audit_signing_key.pem
# into audit); the 0700 directory is what keeps other host users out.
chmod 0444 "$secrets_dir/jwt_private.pem" "$secrets_dir/jwt_public.pem" \
           "$secrets_dir/audit_signing_key.pem" "$secrets_dir/audit_signing_public.pem" \
           "$secrets_dir/field_key" "$secrets_dir/match_key" "$secrets_dir/gateway_field_key"

# --- deploy/.env ------------------------------------------------------------
if [ ! -f "$env_file" ]; then
    cp "$deploy_dir/.env.example" "$env_file"
    echo "created deploy/.env from .env.example"
fi
chmod 600 "$env_file"
# A deploy/.env made before a setting was added to .env.example gets it now
# (an empty *_PASSWORD= is then filled below); values already set are kept.
while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in *=*) ;; *) continue ;; esac
    name=${line%%=*}
    case "$name" in ''|*[!A-Za-z0-9_]*) continue ;; esac
    if ! grep -q "^$name=" "$env_file"; then
        printf '%s\n' "$line" >> "$env_file"
        echo "added $name to deploy/.env"
    fi
done < "$deploy_dir/.env.example"
tmp=$(mktemp)
while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
        *_PASSWORD=) printf '%s%s\n' "$line" "$(openssl rand -hex 24)" ;;
        *) printf '%s\n' "$line" ;;
    esac
done < "$env_file" > "$tmp"
cat "$tmp" > "$env_file"
rm -f "$tmp"

env_value() { sed -n "s/^$1=//p" "$env_file" | tail -n 1; }

# --- RabbitMQ password hashes -----------------------------------------------
# Same algorithm as `rabbitmqctl hash_password` with the default
# rabbit_password_hashing_sha256: base64(salt4 || sha256(salt4 || password)).
rabbit_hash() {
    work=$(mktemp -d)
    openssl rand 4 > "$work/salt"
    { cat "$work/salt"; printf '%s' "$1"; } | openssl dgst -sha256 -binary > "$work/digest"
    cat "$work/salt" "$work/digest" | openssl base64 -A
    rm -rf "$work"
}
fill_hash() { # placeholder env-var
    if grep -q "$1" "$definitions"; then
        password=$(env_value "$2")
        [ -n "$password" ] || { echo "$2 is empty in deploy/.env" >&2; exit 1; }
        hash=$(rabbit_hash "$password")
        tmp=$(mktemp)
        # base64 has no '|' so it is a safe sed delimiter
        sed "s|$1|$hash|" "$definitions" > "$tmp" && cat "$tmp" > "$definitions"
        rm -f "$tmp"
        echo "filled the $2 hash in deploy/rabbitmq/definitions.json (do not commit it)"
    fi
}
fill_hash REPLACE_WITH_rabbitmqctl_hash_password_OUTPUT_FOR_RABBITMQ_WAYFINDER_PASSWORD RABBITMQ_WAYFINDER_PASSWORD
fill_hash REPLACE_WITH_rabbitmqctl_hash_password_OUTPUT_FOR_RABBITMQ_ADMIN_PASSWORD RABBITMQ_ADMIN_PASSWORD

echo "done: docker compose -f deploy/compose.yaml --env-file deploy/.env up --build"
