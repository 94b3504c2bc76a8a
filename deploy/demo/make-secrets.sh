#!/bin/sh
# Random secrets for the Docker demo (docker-compose.demo.yml), one file each under ./secrets,
# readable by the containers' users. Keeps files that exist. Not for production: there, ISP gives
# the client id and secret, and the vendor database's administrator the read-only user.
set -eu
cd "$(dirname "$0")/../.."
mkdir -p secrets site
chmod 755 secrets
random() { od -An -N18 -tx1 /dev/urandom | tr -d ' \n'; }
put() { [ -s "secrets/$1" ] || printf '%s\n' "$2" > "secrets/$1"; chmod 644 "secrets/$1"; }
put isp_client_id demo-client
put isp_client_secret "$(random)"
put web_user demo
put web_password "$(random)"
put demo_db_root_password "$(random)"
put demo_db_reader_password "$(random)"
put vendor_db_url "mysql://isp_sync_ro:$(head -n1 secrets/demo_db_reader_password)@mysql:3306/parking_demo"
echo "secrets in $(pwd)/secrets; dashboard user: $(cat secrets/web_user), password in secrets/web_password"
