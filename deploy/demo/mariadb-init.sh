#!/bin/sh
# Run once by the MariaDB image on an empty data directory (docker-compose.demo.yml): the demo
# vendor database, and the read-only user the worker reads it with, as a real deployment would
# (docs/deploy.md, "a read-only user"). The password comes from the secret file, not from here.
set -eu
reader_password=$(cat /run/secrets/demo_db_reader_password)
docker_process_sql <<SQL
CREATE DATABASE IF NOT EXISTS parking_demo CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'isp_sync_ro'@'%' IDENTIFIED BY '${reader_password}';
GRANT SELECT ON parking_demo.* TO 'isp_sync_ro'@'%';
SQL
