/*
 * cli_accounts — the account subcommands of `consort` (bootstrapping a
 * consortium without a browser) and `consort routes`:
 *
 *   consort partner add --data DIR --short SHORT --name NAME --country CC
 *   consort user add    --data DIR --email EMAIL --name NAME --partner SHORT
 *                       [--coordinator] [--password-stdin]
 *   consort wp add      --data DIR --code WP1 --title TITLE [--lead SHORT]
 *   consort grant       --data DIR --wp WP1 (--user EMAIL | --partner SHORT)
 *                       --level none|read|write|manage
 *   consort deliverable import --data DIR --file TABLE.csv|-
 *                       the grant agreement's deliverable table (CSV) into
 *                       the register, all or nothing (docs/deliverables.md)
 *   consort routes      the route table as JSON (method, pattern, access, body)
 *
 * Each takes the arguments after its name, prints one line on success
 * and returns the exit status (non-zero with one line on stderr).
 */
#ifndef CONSORT_CLI_ACCOUNTS_H
#define CONSORT_CLI_ACCOUNTS_H

int cli_partner(int argc, char **argv);
int cli_user(int argc, char **argv);
int cli_wp(int argc, char **argv);
int cli_grant(int argc, char **argv);
int cli_routes(int argc, char **argv);
int cli_deliverable(int argc, char **argv);

#endif
