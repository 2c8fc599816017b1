/* config — see config.h. */
#include "api/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/metrics.h"
#include "api/publicurl.h"
#include "deliverables.h"
#include "api/scan.h"
#include "lang.h"

enum opt_type { OPT_STRING, OPT_UINT, OPT_U64, OPT_SIZE, OPT_BYTES, OPT_MS, OPT_BOOL, OPT_LOGFMT };

struct option_def {
	const char *key;
	enum opt_type type;
	size_t offset;
	uint64_t min, max;
	const char *doc;
};

#define OFF(field) offsetof(struct config, field)
#define KiB (UINT64_C(1024))
#define MiB (KiB * 1024)
#define GiB (MiB * 1024)
#define TiB (GiB * 1024)
#define DAY_MS (UINT64_C(86400000))

static const struct option_def options[] = {
	{"data", OPT_STRING, OFF(data_dir), 0, 0,
	 "Data directory holding all state (created with mode 0700 on first start); a relative "
	 "one is taken from the working directory at start."},
	{"listen", OPT_STRING, OFF(listen), 0, 0,
	 "Address and port to listen on: `HOST:PORT`, IPv6 as `[::1]:8443`. Default `127.0.0.1:8443`."},
	{"cert", OPT_STRING, OFF(cert), 0, 0,
	 "PEM certificate chain. Without it, a self-signed certificate is made in DATA/tls."},
	{"key", OPT_STRING, OFF(key), 0, 0, "PEM private key for `cert`."},
	{"public-url", OPT_STRING, OFF(public_url), 0, 0,
	 "The address people use, `https://HOST[:PORT]`. Every absolute link the server makes "
	 "(set-password links) starts with it, and a request whose Host names another host is "
	 "refused with 421 Misdirected Request (`/healthz` and `/metrics` excepted). Not set: "
	 "links start with the certificate's host name (`localhost` for the self-signed one) "
	 "and the listen port, and Host is not checked."},
	{"workers", OPT_UINT, OFF(workers), 0, 256,
	 "Worker threads, each with its own event loop and database connection. 0 = number of cores."},
	{"max-connections", OPT_UINT, OFF(max_connections), 1, 1000000,
	 "Open connections at most; further ones are closed at once."},
	{"shutdown-grace", OPT_MS, OFF(shutdown_grace_ms), 0, 3600000,
	 "On SIGTERM, how long in-flight requests may take to finish."},
	{"max-head", OPT_SIZE, OFF(http.max_head), 1 * KiB, 1 * MiB,
	 "Request line plus headers, bytes (431 beyond). Also caps the head of a response (a longer "
	 "one becomes a logged 500, never a cut header)."},
	{"max-target", OPT_SIZE, OFF(http.max_target), 256, 64 * KiB,
	 "Request target (path and query), bytes (414 beyond)."},
	{"head-timeout", OPT_MS, OFF(http.head_timeout_ms), 100, 3600000,
	 "Time from a request's first byte (or the connection's start) to the end of its head."},
	{"idle-timeout", OPT_MS, OFF(http.idle_timeout_ms), 100, 3600000,
	 "Keep-alive: how long an idle connection waits for its next request."},
	{"write-timeout", OPT_MS, OFF(http.write_timeout_ms), 100, 3600000,
	 "A client that reads none of our response for this long is dropped."},
	{"body-rate-window", OPT_MS, OFF(http.body_rate_window_ms), 100, 3600000,
	 "Window over which the minimum request body rate is checked."},
	{"body-min-rate", OPT_U64, OFF(http.body_min_rate), 0, 1 * GiB,
	 "Minimum request body rate in bytes/s over each window (slow POST guard); 0 disables."},
	{"linger", OPT_MS, OFF(http.linger_ms), 0, 60000,
	 "After refusing a request body, how long its bytes are drained before closing."},
	{"max-requests-per-connection", OPT_UINT, OFF(http.max_requests_per_conn), 1, 1000000000,
	 "Requests served on one keep-alive connection before it is closed."},
	{"max-json-body", OPT_BYTES, OFF(max_json_body), 1 * KiB, 16 * MiB,
	 "Largest JSON request body, bytes (413 beyond)."},
	{"max-upload", OPT_BYTES, OFF(max_upload), 1, 16 * TiB,
	 "Largest single document version, bytes (413 beyond)."},
	{"review-file-max", OPT_BYTES, OFF(review_file_max), 1 * KiB, 1 * GiB,
	 "Largest annotated file a reviewer attaches to a review, or submitted PDF of a "
	 "deliverable, bytes (413 beyond); held in memory while it arrives."},
	{"log-format", OPT_LOGFMT, OFF(log_format), 0, 0, "`plain` or `json` lines on stderr."},
	{"access-log", OPT_BOOL, OFF(access_log), 0, 0,
	 "One log line per request (`true`/`false`)."},
	{"extract-max-text", OPT_BYTES, OFF(extract.max_text), 1 * KiB, 1 * GiB,
	 "Text kept from one document for search; the rest is not indexed (the document is "
	 "marked truncated)."},
	{"extract-max-expanded", OPT_BYTES, OFF(extract.max_expanded), 1 * MiB, 64 * GiB,
	 "Bytes an office document (a zip archive) may expand to; beyond it extraction fails "
	 "(zip bombs)."},
	{"extract-max-members", OPT_UINT, OFF(extract.max_members), 1, 1000000,
	 "Entries an office document's archive may have."},
	{"extract-cpu-seconds", OPT_UINT, OFF(extract.cpu_seconds), 1, 3600,
	 "CPU seconds the extraction helper may spend on one document."},
	{"extract-first-seconds", OPT_UINT, OFF(extract_first_seconds), 1, 3600,
	 "CPU seconds of a document's first extraction. One that needs more is set aside and "
	 "extracted under `extract-cpu-seconds` when no other document waits, so that slow or "
	 "hostile documents never hold up everyone else's. At or above `extract-cpu-seconds`: "
	 "every document gets the full limit at once."},
	{"extract-wall-seconds", OPT_UINT, OFF(extract.wall_seconds), 1, 7200,
	 "Seconds one document may take before the helper is killed."},
	{"extract-memory", OPT_BYTES, OFF(extract.max_memory), 64 * MiB, 64 * GiB,
	 "Address space of the extraction helper (not enforced under AddressSanitizer)."},
	{"index-poll", OPT_MS, OFF(index_poll_ms), 100, DAY_MS,
	 "How long an idle indexer waits before it looks at its queue again unasked. Every change "
	 "made through this server wakes it at once; the look finds work queued any other way, "
	 "such as by another process on the same data directory."},
	{"index-gap", OPT_MS, OFF(index_gap_ms), 0, 60000,
	 "How long the indexer waits after a batch when more changes came in while it ran. A "
	 "burst of uploads is then indexed in a few commits, not one per document, each of which "
	 "costs several flushes that compete with the uploads' own; a change in a burst may wait "
	 "this much longer before search finds it, a lone change does not wait. 0: no wait."},
	{"index-language", OPT_STRING, OFF(index_language), 0, 0,
	 "Language (ISO 639-1 code, such as `de`) of a document that declares none and whose text "
	 "is too short to identify: its words are stemmed in it. Default: none (not stemmed)."},
	{"metrics-allow", OPT_STRING, OFF(metrics_allow), 0, 0,
	 "Who may read `GET /metrics` without the token: comma-separated addresses or "
	 "address/prefix-length, IPv4 or IPv6, or `none`. Default `127.0.0.0/8, ::1` (this machine)."},
	{"metrics-token-file", OPT_STRING, OFF(metrics_token_file), 0, 0,
	 "File holding a bearer token (16 to 256 printable characters, one line) that lets a "
	 "scraper from any address read `/metrics` (`Authorization: Bearer TOKEN`). Read at start."},
	{"metrics-blob-walk", OPT_MS, OFF(metrics_blob_walk_ms), 0, 7 * DAY_MS,
	 "How often the blob store is walked for the size and count in `/metrics` (blobs this "
	 "server stores are counted as they come), and the small content in the database counted "
	 "(it moves only then). 0: only at start."},
	{"blob-store", OPT_STRING, OFF(blob_store), 0, 0,
	 "Where blobs are kept: `local` (DATA/blobs) or `s3` (an S3-compatible object store such as "
	 "Ceph's RADOS Gateway, set by the `s3-` options). Recorded in DATA/blob-store, which "
	 "`consort gc`, `fsck` and `backup` read; unset: as that file says (default local). "
	 "Changing it on a data directory with blobs is refused: `consort blobs migrate --to s3`."},
	{"s3-endpoint", OPT_STRING, OFF(s3_endpoint), 0, 0,
	 "The object store's URL, `https://HOST[:PORT]`; plain `http://` only on loopback."},
	{"s3-region", OPT_STRING, OFF(s3_region), 0, 0,
	 "Region for the request signature (AWS SigV4). Default `us-east-1` (what Ceph accepts)."},
	{"s3-bucket", OPT_STRING, OFF(s3_bucket), 0, 0,
	 "Bucket of the blobs (created when missing); objects are `blobs/<sha256>`."},
	{"s3-addressing", OPT_STRING, OFF(s3_addressing), 0, 0,
	 "`path` (`HOST/BUCKET/KEY`, default, what Ceph serves without DNS set up) or `virtual` "
	 "(`BUCKET.HOST/KEY`)."},
	{"s3-credentials-file", OPT_STRING, OFF(s3_credentials_file), 0, 0,
	 "File with `access_key = ...` and `secret_key = ...` lines. Without it the keys come from "
	 "the environment, `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`."},
	{"s3-ca-file", OPT_STRING, OFF(s3_ca_file), 0, 0,
	 "PEM CA certificate(s) to verify the object store's TLS certificate with, besides the "
	 "system's. Verification cannot be turned off."},
	{"s3-parallel-parts", OPT_UINT, OFF(s3_parallel_parts), 1, 16,
	 "Parts of one large upload sent to the object store at once (16 MiB parts, each on its own "
	 "connection, read from the spooled file by offset). Default 4."},
	{"s3-cache-size", OPT_BYTES, OFF(s3_cache_size), 0, 1024 * TiB,
	 "Bytes of a local read cache of blobs from the object store, in DATA/cache: a blob read "
	 "whole is kept there and later downloads, Range requests and helpers read the file, "
	 "least recently used ones are removed to stay under the size. 0 (default): no cache."},
	{"default-quota", OPT_BYTES, OFF(default_quota), 0, 1024 * TiB,
	 "Quota of each work package that has none of its own: bytes of all its stored versions. "
	 "0: unlimited."},
	{"default-keep-versions", OPT_UINT, OFF(default_keep_versions), 0, 1000000,
	 "Retention for work packages without a rule of their own: keep the newest N versions of "
	 "each document. 0: no count rule. With both retention defaults 0 every version is kept."},
	{"default-keep-days", OPT_UINT, OFF(default_keep_days), 0, 36500,
	 "Retention for work packages without a rule of their own: keep versions younger than D "
	 "days. 0: no age rule. The current version is always kept."},
	{"gc-interval", OPT_MS, OFF(gc_interval_ms), 0, 7 * DAY_MS,
	 "How often the server collects garbage itself, as `consort gc` does (retention, blobs no "
	 "version references once older than the grace of 1 h, expired uploads), on a thread of its "
	 "own. 0: never (then run `consort gc` from a timer)."},
	{"test-hooks", OPT_BOOL, OFF(test_hooks), 0, 0,
	 "For the test suite only: enables `POST /_test/sink` and `GET /_test/source`, "
	 "which stream request and response bodies without touching the store. Never in production."},
	{"session-idle", OPT_MS, OFF(session_idle_ms), 1000, 30 * DAY_MS,
	 "A sign-in session unused for this long ends."},
	{"session-max", OPT_MS, OFF(session_max_ms), 1000, 30 * DAY_MS,
	 "A sign-in session ends this long after the login, however active."},
	{"password-link-ttl", OPT_MS, OFF(password_link_ms), 60000, 30 * DAY_MS,
	 "How long a one-time set-password link stays usable."},
	{"login-account-failures", OPT_UINT, OFF(login_account_failures), 1, 1000,
	 "Failed logins for one account before it is locked out (429) for a while."},
	{"login-address-failures", OPT_UINT, OFF(login_address_failures), 1, 100000,
	 "Failed logins from one source address (IPv6: its /64) before it is locked out."},
	{"login-lockout", OPT_MS, OFF(login_lockout_ms), 1000, DAY_MS,
	 "First lockout after too many failures; it doubles with each further failure."},
	{"login-lockout-max", OPT_MS, OFF(login_lockout_max_ms), 1000, DAY_MS,
	 "Longest lockout. Failures are forgotten an hour after the last one."},
	{"argon2-memory", OPT_UINT, OFF(argon2_memory_kib), 19456, 4194304,
	 "Argon2id memory per password hash, KiB. Raising it rehashes each password at its next login."},
	{"argon2-iterations", OPT_UINT, OFF(argon2_iterations), 2, 100,
	 "Argon2id passes over memory."},
	{"argon2-parallelism", OPT_UINT, OFF(argon2_parallelism), 1, 16, "Argon2id lanes."},
	{"job-threads", OPT_UINT, OFF(job_threads), 0, 256,
	 "Threads for blocking work such as password hashing. 0 = number of cores."},
	{"io-threads", OPT_UINT, OFF(io_threads), 1, 1024,
	 "Threads that write and fsync uploads; most of their time is spent waiting for the disk."},
	{"upload-expiry", OPT_MS, OFF(upload_expiry_ms), 60000, 30 * DAY_MS,
	 "An unfinished resumable (tus) upload is removed this long after it was created."},
	{"upload-sync-interval", OPT_MS, OFF(upload_sync_ms), 1000, DAY_MS,
	 "A resumable (tus) upload's bytes are made durable and its offset recorded at least this "
	 "often while they arrive (and every 32 MiB): what a crash may lose of an upload on a slow "
	 "line, and how current its offset is for a client resuming elsewhere."},
	{"uploads-per-user", OPT_UINT, OFF(uploads_per_user), 1, 100000,
	 "Unfinished resumable uploads one user may have open at once."},
	{"smtp-url", OPT_STRING, OFF(smtp_url), 0, 0,
	 "Mail server, `smtp://host:587` (STARTTLS, required) or `smtps://host:465`. Unset: "
	 "mail is written to DATA/outbox/ as .eml files instead of being sent."},
	{"smtp-user", OPT_STRING, OFF(smtp_user), 0, 0, "SMTP AUTH user name; unset: no AUTH."},
	{"smtp-password-file", OPT_STRING, OFF(smtp_password_file), 0, 0,
	 "File whose first line is the SMTP AUTH password (never on the command line)."},
	{"smtp-ca-file", OPT_STRING, OFF(smtp_ca_file), 0, 0,
	 "PEM file of the CAs that may sign the mail server's certificate; unset: the system's."},
	{"mail-from", OPT_STRING, OFF(mail_from), 0, 0,
	 "Sender address of every mail (`consort <noreply@example.org>`). Default: "
	 "consort@localhost."},
	{"notify-interval", OPT_MS, OFF(notify_interval_ms), 100, DAY_MS,
	 "How often the mail thread builds due digests and sends queued mail."},
	{"reminder-interval", OPT_MS, OFF(reminder_interval_ms), 0, DAY_MS,
	 "How often the server looks for deliverable reminders to send (review tasks, reviews and "
	 "deliverables due soon or overdue), on a thread of its own. 0: never."},
	{"reminder-days", OPT_UINT, OFF(reminder_days), 0, 365,
	 "Days before a review's or a deliverable's due date when the reminder is sent."},
	{"mail-retry", OPT_MS, OFF(mail_retry_ms), 100, DAY_MS,
	 "Wait after a failed send; it doubles with each failure up to 15 minutes. Mail is "
	 "kept and retried for 3 days."},
	{"upload-bytes-per-user", OPT_BYTES, OFF(upload_bytes_per_user), 1, 1024 * TiB,
	 "Announced size of one user's unfinished resumable uploads together, bytes."},
	{"project-start", OPT_STRING, OFF(project_start), 0, 0,
	 "First day of the project (`YYYY-MM-DD`): a deliverable due in month N of the grant "
	 "agreement is due on the last day of that month of the project. Without it the register "
	 "shows due months only (and cannot tell what is overdue)."},
	{"oidc-ca-file", OPT_STRING, OFF(oidc_ca_file), 0, 0,
	 "PEM file of the certificate authorities trusted for OpenID providers instead of the "
	 "system's. Certificates are always verified."},
	{"oidc-jwks-refetch", OPT_MS, OFF(oidc_jwks_refetch_ms), 0, DAY_MS,
	 "An ID token signed with a key a provider's cached key set lacks fetches the set again "
	 "(key rotation), at most once per this time."},
	{"clamd-socket", OPT_STRING, OFF(clamd_socket), 0, 0,
	 "clamd's unix socket (its `LocalSocket`). With it (or `clamd-address`) every new content "
	 "is scanned for malware before its version exists (docs/scanning.md); with neither, "
	 "scanning is off."},
	{"clamd-address", OPT_STRING, OFF(clamd_address), 0, 0,
	 "clamd's TCP address, `HOST:PORT` (its `TCPSocket`), instead of `clamd-socket`."},
	{"clamd-timeout", OPT_MS, OFF(clamd_timeout_ms), 100, 3600000,
	 "Longest wait for clamd on one send or receive of a scan; a large file's verdict comes "
	 "after clamd has read all of it."},
	{"clamd-wait", OPT_MS, OFF(clamd_wait_ms), 0, 600000,
	 "How long an upload waits, retrying, for a clamd that cannot be reached or does not "
	 "answer (hung) before `scan-unreachable` applies."},
	{"scan-unscannable", OPT_STRING, OFF(scan_unscannable), 0, 0,
	 "Content clamd cannot scan (over its `StreamMaxLength`, an encrypted or broken archive): "
	 "`refuse` (422 `unscannable`) or `accept-unscanned` (stored, marked `unscanned`). "
	 "Default `refuse`."},
	{"scan-unreachable", OPT_STRING, OFF(scan_unreachable), 0, 0,
	 "Uploads while clamd cannot be reached (after `clamd-wait`): `refuse` (503 "
	 "`scanner_unavailable`) or `accept-unscanned`. Default `refuse`."},
	{"preview-cache-size", OPT_BYTES, OFF(preview_cache_size), 0, 1024 * TiB,
	 "Size limit of the preview cache (DATA/previews), bytes; beyond it the least recently "
	 "used previews are removed. 0: 3% of the blob store, at least 16 MiB (docs/previews.md)."},
	{"preview-threads", OPT_UINT, OFF(preview_threads), 1, 64,
	 "Previews made at the same time (each runs a helper process); office documents are "
	 "converted by the `preview-converters` LibreOffice processes."},
	{"preview-converters", OPT_UINT, OFF(preview_converters), 0, 16,
	 "LibreOffice processes converting office documents at the same time, each started on "
	 "first need and reused. 0: 1 on a machine with 2 cores or fewer, else 2; never more than "
	 "`preview-threads` (docs/previews.md)."},
	{"preview-seconds", OPT_UINT, OFF(preview_seconds), 1, 3600,
	 "Longest time (wall and CPU) for one preview task: converting a document, drawing a "
	 "page. A document over it shows as failed."},
	{"preview-memory", OPT_BYTES, OFF(preview_memory), 64 * MiB, 64 * GiB,
	 "Address space of a preview helper (pdftoppm, image loaders); LibreOffice gets at "
	 "least 2 GiB."},
};

#define NOPTIONS (sizeof options / sizeof options[0])

/* Keys of an `[oidc NAME]` section. */
#define POFF(field) offsetof(struct oidc_provider_conf, field)
static const struct option_def provider_options[] = {
	{"title", OPT_STRING, POFF(title), 0, 0, "The sign-in button's text. Default: NAME."},
	{"issuer", OPT_STRING, POFF(issuer), 0, 0,
	 "The provider's issuer URL (required, https), exactly as in its ID tokens."},
	{"client-id", OPT_STRING, POFF(client_id), 0, 0,
	 "The client id registered there (required)."},
	{"client-secret-file", OPT_STRING, POFF(client_secret_file), 0, 0,
	 "File holding the client secret (one line). Without it consort is a public client."},
	{"scopes", OPT_STRING, POFF(scopes), 0, 0,
	 "Scopes asked for, space-separated. Default `openid email profile`."},
	{"email-claim", OPT_STRING, POFF(email_claim), 0, 0,
	 "Claim with the email. Default `email`."},
	{"name-claim", OPT_STRING, POFF(name_claim), 0, 0, "Claim with the name. Default `name`."},
	{"partner-claim", OPT_STRING, POFF(partner_claim), 0, 0,
	 "Claim naming the home organisation, e.g. `schac_home_organization`."},
	{"partner-map", OPT_STRING, POFF(partner_map), 0, 0,
	 "`value=SHORT, ...`: the partner a value of partner-claim means."},
	{"email-domains", OPT_STRING, POFF(email_domains), 0, 0,
	 "Only emails of these domains (comma-separated) may sign in. Default: any."},
	{"mfa-amr", OPT_STRING, POFF(mfa_amr), 0, 0,
	 "`amr` values that count as a second factor (comma-separated). Default `mfa`."},
	{"mfa-acr", OPT_STRING, POFF(mfa_acr), 0, 0,
	 "`acr` values that count as a second factor (comma-separated). Default: none."},
	{"userinfo", OPT_BOOL, POFF(userinfo), 0, 0,
	 "Also ask the UserInfo endpoint for claims (`true`/`false`)."},
};
#define NPROVIDER_OPTIONS (sizeof provider_options / sizeof provider_options[0])

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	http_limits_default(&cfg->http);
	cfg->workers = 0;
	cfg->max_connections = 10000;
	cfg->shutdown_grace_ms = 10000;
	cfg->max_json_body = 64 * KiB;
	cfg->max_upload = 64 * GiB;
	cfg->review_file_max = 50 * MiB;
	cfg->log_format = LOG_PLAIN;
	cfg->access_log = true;
	cfg->metrics_blob_walk_ms = 10 * 60 * 1000;
	cfg->s3_parallel_parts = 4;
	extract_limits_default(&cfg->extract);
	cfg->index_poll_ms = 500;
	cfg->index_gap_ms = 250;
	cfg->gc_interval_ms = 60 * 60 * 1000;
	cfg->extract_first_seconds = 2;
	cfg->session_idle_ms = 60 * 60 * 1000;
	cfg->session_max_ms = 12 * 60 * 60 * 1000;
	cfg->password_link_ms = 3 * DAY_MS;
	cfg->login_account_failures = 5;
	cfg->login_address_failures = 50;
	cfg->login_lockout_ms = 30 * 1000;
	cfg->login_lockout_max_ms = 15 * 60 * 1000;
	cfg->argon2_memory_kib = 19456;
	cfg->argon2_iterations = 2;
	cfg->argon2_parallelism = 1;
	cfg->job_threads = 0;
	cfg->io_threads = 16;
	cfg->upload_expiry_ms = (unsigned)DAY_MS;
	cfg->upload_sync_ms = 60000;
	cfg->uploads_per_user = 20;
	cfg->upload_bytes_per_user = 256 * GiB;
	cfg->preview_threads = 2;
	cfg->preview_seconds = 60;
	cfg->preview_memory = 1 * GiB;
	cfg->notify_interval_ms = 60000;
	cfg->reminder_interval_ms = 60 * 60 * 1000;
	cfg->reminder_days = 3;
	cfg->mail_retry_ms = 30000;
	cfg->oidc_jwks_refetch_ms = 30 * 1000;
	cfg->clamd_timeout_ms = 120000;
	cfg->clamd_wait_ms = 5000;
}

static const struct option_def *find_in(const struct option_def *t, size_t n, const char *key,
					size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(t[i].key) == len && memcmp(t[i].key, key, len) == 0)
			return &t[i];
	return NULL;
}

static const struct option_def *find_option(const char *key, size_t len)
{
	return find_in(options, NOPTIONS, key, len);
}

/* Parse an unsigned number with an optional unit suffix from `units`
 * (suffix, multiplier); with no suffix `plain_mult` applies. */
struct unit {
	const char *suffix;
	uint64_t mult;
};

static const struct unit byte_units[] = {
	{"", 1},    {"B", 1},     {"K", KiB}, {"KiB", KiB}, {"M", MiB}, {"MiB", MiB},
	{"G", GiB}, {"GiB", GiB}, {"T", TiB}, {"TiB", TiB}, {NULL, 0},
};

static const struct unit plain_units[] = {
	{"", 1},
	{NULL, 0},
};

static const struct unit time_units[] = {
	{"ms", 1},      {"s", 1000},    {"", 1000},    {"m", 60000},
	{"min", 60000}, {"h", 3600000}, {"d", DAY_MS}, {NULL, 0},
};

static const char *parse_number(const char *v, const struct unit *units, uint64_t *out)
{
	const char *p = v;
	uint64_t n = 0;

	while (*p == ' ')
		p++;
	if (*p == '-')
		return "must not be negative";
	if (!isdigit((unsigned char)*p))
		return "is not a number";
	for (; isdigit((unsigned char)*p); p++) {
		if (n > (UINT64_MAX - 9) / 10)
			return "is too large";
		n = n * 10 + (uint64_t)(*p - '0');
	}
	for (const struct unit *u = units; u->suffix; u++) {
		if (strcmp(p, u->suffix) == 0) {
			if (u->mult && n > UINT64_MAX / u->mult)
				return "is too large";
			*out = n * u->mult;
			return NULL;
		}
	}
	if (units == plain_units)
		return "must be a plain number";
	return units == byte_units ? "has an unknown unit (use K, M, G or T)"
				   : "has an unknown unit (use ms, s, m, h or d)";
}

const char *config_parse_bytes(const char *value, uint64_t *out)
{
	return parse_number(value, byte_units, out);
}

/* Set one option from its textual value; on error returns a reason. */
static const char *set_option(void *target, const struct option_def *o, const char *value)
{
	char *base = (char *)target + o->offset;
	const char *why;
	uint64_t n;

	switch (o->type) {
	case OPT_STRING: {
		char **slot = (char **)base;
		char *copy;

		if (!*value)
			return "must not be empty";
		copy = strdup(value);
		if (!copy)
			return "out of memory";
		free(*slot);
		*slot = copy;
		return NULL;
	}
	case OPT_BOOL:
		if (!strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "on") ||
		    !strcmp(value, "1"))
			*(bool *)base = true;
		else if (!strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "off") ||
			 !strcmp(value, "0"))
			*(bool *)base = false;
		else
			return "must be true or false";
		return NULL;
	case OPT_LOGFMT:
		if (!strcmp(value, "plain"))
			*(enum log_format *)base = LOG_PLAIN;
		else if (!strcmp(value, "json"))
			*(enum log_format *)base = LOG_JSON;
		else
			return "must be plain or json";
		return NULL;
	case OPT_UINT:
	case OPT_U64:
	case OPT_SIZE:
	case OPT_BYTES:
	case OPT_MS:
		why = parse_number(value,
				   o->type == OPT_MS                               ? time_units
				   : (o->type == OPT_SIZE || o->type == OPT_BYTES) ? byte_units
										   : plain_units,
				   &n);
		if (why)
			return why;
		if (n < o->min)
			return "is below the minimum";
		if (o->max && n > o->max)
			return "is above the maximum";
		if (o->type == OPT_U64 || o->type == OPT_BYTES)
			*(uint64_t *)base = n;
		else if (o->type == OPT_SIZE)
			*(size_t *)base = (size_t)n;
		else
			*(unsigned *)base = (unsigned)n;
		return NULL;
	}
	return "unsupported option type";
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* `[oidc NAME]`: the lines after it, up to the next section, configure
 * provider NAME. */
static const char *begin_section(struct config *cfg, char *s, struct oidc_provider_conf **out)
{
	size_t len = strlen(s);
	struct oidc_provider_conf *grown;
	char *name;

	if (len < 2 || s[len - 1] != ']')
		return "a section is written [oidc NAME]";
	s[len - 1] = '\0';
	s = trim(s + 1);
	if (strncmp(s, "oidc", 4) != 0 || !isspace((unsigned char)s[4]))
		return "unknown section (only [oidc NAME] is known)";
	name = trim(s + 4);
	if (!*name || strlen(name) > 32)
		return "an [oidc] section needs a NAME of 1 to 32 characters";
	for (const char *p = name; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-')
			return "an [oidc] NAME takes only a-z, 0-9 and '-'";
	for (size_t i = 0; i < cfg->n_oidc; i++)
		if (!strcmp(cfg->oidc[i].name, name))
			return "this [oidc] section is given twice";
	if (!strcmp(name, "callback") || !strcmp(name, "logout") || !strcmp(name, "totp"))
		return "this [oidc] NAME is taken by a route";
	if (cfg->n_oidc >= 32)
		return "too many [oidc] sections (32 at most)";
	grown = realloc(cfg->oidc, (cfg->n_oidc + 1) * sizeof *grown);
	if (!grown)
		return "out of memory";
	cfg->oidc = grown;
	memset(&grown[cfg->n_oidc], 0, sizeof *grown);
	grown[cfg->n_oidc].name = strdup(name);
	if (!grown[cfg->n_oidc].name)
		return "out of memory";
	*out = &grown[cfg->n_oidc++];
	return NULL;
}

static enum err load_file(struct config *cfg, const char *path)
{
	FILE *f = fopen(path, "re");
	char line[4096];
	unsigned lineno = 0;
	enum err rc = ERR_OK;
	struct oidc_provider_conf *section = NULL;

	if (!f)
		return err_from_errno(errno, path);
	while (fgets(line, sizeof line, f)) {
		char *s, *eq, *key, *value;
		const struct option_def *o;
		const char *why;
		size_t vlen;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			rc = err_set(ERR_INVALID, "%s:%u: line too long", path, lineno);
			break;
		}
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		if (*s == '[') {
			const char *bad_section = begin_section(cfg, s, &section);

			if (bad_section) {
				rc = err_set(ERR_INVALID, "%s:%u: %s", path, lineno, bad_section);
				break;
			}
			continue;
		}
		eq = strchr(s, '=');
		if (!eq) {
			rc = err_set(ERR_INVALID, "%s:%u: expected key = value", path, lineno);
			break;
		}
		*eq = '\0';
		key = trim(s);
		value = trim(eq + 1);
		vlen = strlen(value);
		if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
			value[vlen - 1] = '\0';
			value++;
		}
		o = section ? find_in(provider_options, NPROVIDER_OPTIONS, key, strlen(key))
			    : find_option(key, strlen(key));
		if (!o || !strcmp(key, "config")) {
			rc = err_set(ERR_INVALID, "%s:%u: unknown key '%s'%s", path, lineno, key,
				     section ? " in an [oidc] section" : "");
			break;
		}
		why = set_option(section ? (void *)section : (void *)cfg, o, value);
		if (why) {
			rc = err_set(ERR_INVALID, "%s:%u: %s: value '%s' %s", path, lineno, key,
				     value, why);
			break;
		}
	}
	if (!rc && ferror(f))
		rc = err_from_errno(errno, path);
	fclose(f);
	return rc;
}

/* A relative data directory is made absolute once, here, against the
 * working directory at start: every path made from it then names the
 * same file in every thread and helper, and the partial uploads' writer
 * takes only absolute paths (cas_writer_resume). The directory need
 * not exist yet (serve creates it). */
static enum err data_dir_absolute(struct config *cfg)
{
	const char *rel = cfg->data_dir;
	char cwd[PATH_MAX], *abs;

	if (!*rel || *rel == '/')
		return ERR_OK;
	while (rel[0] == '.' && rel[1] == '/')
		rel += 2;
	if (!getcwd(cwd, sizeof cwd))
		return err_set(ERR_INVALID,
			       "data directory %s: the working directory is unknown: %s",
			       cfg->data_dir, strerror(errno));
	if (asprintf(&abs, "%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", *rel ? rel : ".") < 0)
		return err_set(ERR_NOMEM, "out of memory");
	free(cfg->data_dir);
	cfg->data_dir = abs;
	return ERR_OK;
}

enum err config_load(struct config *cfg, int argc, char **argv)
{
	enum err rc;

	/* First pass: only --config, so the file's values can be overridden. */
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--config")) {
			if (i + 1 >= argc)
				return err_set(ERR_INVALID, "--config needs a file");
			free(cfg->config_file);
			cfg->config_file = strdup(argv[i + 1]);
			if (!cfg->config_file)
				return err_set(ERR_NOMEM, "out of memory");
		}
	}
	if (cfg->config_file) {
		rc = load_file(cfg, cfg->config_file);
		if (rc)
			return rc;
	}
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i], *value, *eq, *why;
		const struct option_def *o;
		size_t klen;

		if (strncmp(arg, "--", 2) != 0)
			return err_set(ERR_INVALID, "unexpected argument '%s'", arg);
		arg += 2;
		eq = strchr(arg, '=');
		klen = eq ? (size_t)(eq - arg) : strlen(arg);
		if (klen == 6 && !strncmp(arg, "config", 6)) {
			i++;
			continue;
		}
		o = find_option(arg, klen);
		if (!o)
			return err_set(ERR_INVALID, "unknown option '--%.*s'", (int)klen, arg);
		if (eq) {
			value = eq + 1;
		} else if (o->type == OPT_BOOL &&
			   (i + 1 >= argc || !strncmp(argv[i + 1], "--", 2))) {
			value = "true";
		} else {
			if (i + 1 >= argc)
				return err_set(ERR_INVALID, "--%s needs a value", o->key);
			value = argv[++i];
		}
		why = set_option(cfg, o, value);
		if (why)
			return err_set(ERR_INVALID, "--%s: value '%s' %s", o->key, value, why);
	}
	if (!cfg->data_dir)
		return err_set(ERR_INVALID, "--data DIR is required");
	rc = data_dir_absolute(cfg);
	if (rc)
		return rc;
	if (!cfg->listen) {
		cfg->listen = strdup("127.0.0.1:8443");
		if (!cfg->listen)
			return err_set(ERR_NOMEM, "out of memory");
	}
	if ((cfg->cert == NULL) != (cfg->key == NULL))
		return err_set(ERR_INVALID, "cert and key must be given together");
	return config_check(cfg);
}

/* A file option must name a readable regular file now, so that a typo
 * stops the start with its name rather than a TLS library message. */
static enum err check_file(const char *key, const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return err_set(ERR_INVALID, "%s: %s: %s", key, path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set(ERR_INVALID, "%s: %s is not a regular file", key, path);
	if (access(path, R_OK) != 0)
		return err_set(ERR_INVALID, "%s: %s: %s", key, path, strerror(errno));
	return ERR_OK;
}

enum err config_check(const struct config *cfg)
{
	enum err rc;

	if (cfg->session_idle_ms > cfg->session_max_ms)
		return err_set(ERR_INVALID, "session-idle must not exceed session-max");
	if (cfg->login_lockout_ms > cfg->login_lockout_max_ms)
		return err_set(ERR_INVALID, "login-lockout must not exceed login-lockout-max");

	if (cfg->cert && (rc = check_file("cert", cfg->cert)))
		return rc;
	if (cfg->key && (rc = check_file("key", cfg->key)))
		return rc;
	if (cfg->metrics_token_file &&
	    (rc = check_file("metrics-token-file", cfg->metrics_token_file)))
		return rc;
	if (cfg->metrics_allow && (rc = metrics_allow_check(cfg->metrics_allow)))
		return rc;
	if (cfg->public_url && publicurl_check(cfg->public_url))
		return err_set(ERR_INVALID, "public-url: %s", err_detail());
	if (cfg->project_start && !dlv_date_valid(cfg->project_start))
		return err_set(ERR_INVALID, "project-start must be a date YYYY-MM-DD");
	if (cfg->smtp_password_file &&
	    (rc = check_file("smtp-password-file", cfg->smtp_password_file)))
		return rc;
	if (cfg->smtp_ca_file && (rc = check_file("smtp-ca-file", cfg->smtp_ca_file)))
		return rc;
	if (cfg->smtp_url && strncmp(cfg->smtp_url, "smtp://", 7) &&
	    strncmp(cfg->smtp_url, "smtps://", 8))
		return err_set(ERR_INVALID, "smtp-url must start with smtp:// or smtps://");
	if (cfg->index_language && *cfg->index_language &&
	    strcmp(lang_normalize(cfg->index_language, strlen(cfg->index_language)),
		   cfg->index_language))
		return err_set(ERR_INVALID,
			       "index-language: '%s' is not a language code consort stems (such as "
			       "de, fr, sv)",
			       cfg->index_language);
	if (cfg->oidc_ca_file && (rc = check_file("oidc-ca-file", cfg->oidc_ca_file)))
		return rc;
	if (cfg->blob_store && strcmp(cfg->blob_store, "local") && strcmp(cfg->blob_store, "s3"))
		return err_set(ERR_INVALID, "blob-store must be local or s3");
	if (cfg->s3_addressing && strcmp(cfg->s3_addressing, "path") &&
	    strcmp(cfg->s3_addressing, "virtual"))
		return err_set(ERR_INVALID, "s3-addressing must be path or virtual");
	if (cfg->blob_store && !strcmp(cfg->blob_store, "s3") &&
	    (!cfg->s3_endpoint || !cfg->s3_bucket))
		return err_set(ERR_INVALID, "blob-store = s3 needs s3-endpoint and s3-bucket");
	/* The S3 files matter only with the S3 store (the example file
	 * names them all with blob-store = local). */
	if (cfg->blob_store && !strcmp(cfg->blob_store, "s3") && cfg->s3_credentials_file &&
	    (rc = check_file("s3-credentials-file", cfg->s3_credentials_file)))
		return rc;
	if (cfg->blob_store && !strcmp(cfg->blob_store, "s3") && cfg->s3_ca_file &&
	    (rc = check_file("s3-ca-file", cfg->s3_ca_file)))
		return rc;
	if (cfg->n_oidc && !cfg->public_url)
		return err_set(ERR_INVALID,
			       "[oidc] providers need public-url (their redirect URI)");
	for (size_t i = 0; i < cfg->n_oidc; i++) {
		const struct oidc_provider_conf *p = &cfg->oidc[i];

		if (!p->issuer || strncmp(p->issuer, "https://", 8) != 0)
			return err_set(ERR_INVALID, "[oidc %s]: issuer must be an https URL",
				       p->name);
		if (!p->client_id)
			return err_set(ERR_INVALID, "[oidc %s]: client-id is required", p->name);
		if (p->client_secret_file &&
		    (rc = check_file("client-secret-file", p->client_secret_file)))
			return rc;
	}
	if (cfg->clamd_socket && cfg->clamd_address)
		return err_set(ERR_INVALID, "clamd-socket and clamd-address: set one, not both");
	if (cfg->clamd_socket && cfg->clamd_socket[0] != '/')
		return err_set(ERR_INVALID, "clamd-socket must be an absolute path");
	if (cfg->clamd_address &&
	    (cfg->clamd_address[0] == '/' || !strchr(cfg->clamd_address, ':')))
		return err_set(ERR_INVALID, "clamd-address must be HOST:PORT");
	{
		enum scan_policy sp;

		if (scan_policy_parse(cfg->scan_unscannable, &sp))
			return err_set(ERR_INVALID, "scan-unscannable: %s", err_detail());
		if (scan_policy_parse(cfg->scan_unreachable, &sp))
			return err_set(ERR_INVALID, "scan-unreachable: %s", err_detail());
	}
	return ERR_OK;
}

/* A value the way a person would write it in the file. */
static void format_value(const struct option_def *o, const struct config *c, char *buf, size_t n)
{
	const char *base = (const char *)c + o->offset;
	uint64_t v = 0;

	switch (o->type) {
	case OPT_STRING:
		snprintf(buf, n, "%s", *(char *const *)base ? *(char *const *)base : "");
		return;
	case OPT_BOOL: snprintf(buf, n, "%s", *(const bool *)base ? "true" : "false"); return;
	case OPT_LOGFMT:
		snprintf(buf, n, "%s",
			 *(const enum log_format *)base == LOG_JSON ? "json" : "plain");
		return;
	case OPT_U64:
	case OPT_BYTES: v = *(const uint64_t *)base; break;
	case OPT_SIZE: v = *(const size_t *)base; break;
	case OPT_UINT:
	case OPT_MS: v = *(const unsigned *)base; break;
	}
	if (o->type == OPT_BYTES || o->type == OPT_SIZE) {
		static const char *const units[] = {"", "K", "M", "G", "T"};
		int u = 0;

		while (u < 4 && v && v % 1024 == 0) {
			v /= 1024;
			u++;
		}
		snprintf(buf, n, "%llu%s", (unsigned long long)v, units[u]);
	} else if (o->type == OPT_MS) {
		if (v && v % DAY_MS == 0)
			snprintf(buf, n, "%llud", (unsigned long long)(v / DAY_MS));
		else if (v && v % 3600000 == 0)
			snprintf(buf, n, "%lluh", (unsigned long long)(v / 3600000));
		else if (v && v % 60000 == 0)
			snprintf(buf, n, "%llum", (unsigned long long)(v / 60000));
		else if (v && v % 1000 == 0)
			snprintf(buf, n, "%llus", (unsigned long long)(v / 1000));
		else
			snprintf(buf, n, "%llums", (unsigned long long)v);
	} else {
		snprintf(buf, n, "%llu", (unsigned long long)v);
	}
}

void config_write_reference(FILE *out)
{
	static const char *const type_names[] = {
		[OPT_STRING] = "text",     [OPT_UINT] = "number",       [OPT_U64] = "number",
		[OPT_SIZE] = "size",       [OPT_BYTES] = "size",        [OPT_MS] = "duration",
		[OPT_BOOL] = "true/false", [OPT_LOGFMT] = "plain/json",
	};
	struct config d;

	config_defaults(&d);
	fprintf(out,
		"# Configuration reference\n\n"
		"<!-- Generated by `consort serve --help-config` from the option table in\n"
		"     server/api/config.c; edit that table, then regenerate this file. A test\n"
		"     fails when the two differ. -->\n\n"
		"`consort serve` takes every option below as a flag (`--key value` or\n"
		"`--key=value`) and as a line `key = value` in the file named by\n"
		"`--config FILE`; flags win over the file. In the file, `#` starts a\n"
		"comment line and a value may be put in double quotes. An unknown key\n"
		"or a bad value stops the start with the file and line (or the flag)\n"
		"and the reason, and exit status 1.\n\n"
		"Sizes take the units K, M, G, T (powers of 1024) or none (bytes).\n"
		"Durations take ms, s, m, h, d; a plain number is seconds.\n"
		"Negative numbers are refused everywhere.\n\n"
		"deploy/consort.conf.example is a commented file with every option.\n\n"
		"| key (`--key`) | type | default | meaning |\n|---|---|---|---|\n");
	for (size_t i = 0; i < NOPTIONS; i++) {
		char def[64];

		format_value(&options[i], &d, def, sizeof def);
		fprintf(out, "| `%s` | %s | %s%s%s | %s |\n", options[i].key,
			type_names[options[i].type], *def ? "`" : "", *def ? def : "(none)",
			*def ? "`" : "", options[i].doc);
	}
	fprintf(out, "\n## OpenID Connect providers\n\n"
		     "Each `[oidc NAME]` section of the file (not flags) configures one provider\n"
		     "of sign-in (docs/accounts.md); NAME (a-z, 0-9, '-') appears in\n"
		     "`/api/v1/auth/oidc/NAME`. The keys after it, up to the next section, are:\n\n"
		     "| key | type | meaning |\n|---|---|---|\n");
	for (size_t i = 0; i < NPROVIDER_OPTIONS; i++)
		fprintf(out, "| `%s` | %s | %s |\n", provider_options[i].key,
			type_names[provider_options[i].type], provider_options[i].doc);
	config_free(&d);
}

void config_free(struct config *cfg)
{
	free(cfg->data_dir);
	free(cfg->listen);
	free(cfg->public_url);
	free(cfg->cert);
	free(cfg->key);
	free(cfg->config_file);
	free(cfg->metrics_allow);
	free(cfg->metrics_token_file);
	free(cfg->clamd_socket);
	free(cfg->clamd_address);
	free(cfg->scan_unscannable);
	free(cfg->scan_unreachable);
	free(cfg->project_start);
	free(cfg->smtp_url);
	free(cfg->smtp_user);
	free(cfg->smtp_password_file);
	free(cfg->smtp_ca_file);
	free(cfg->mail_from);
	free(cfg->index_language);
	free(cfg->blob_store);
	free(cfg->s3_endpoint);
	free(cfg->s3_region);
	free(cfg->s3_bucket);
	free(cfg->s3_addressing);
	free(cfg->s3_credentials_file);
	free(cfg->s3_ca_file);
	free(cfg->oidc_ca_file);
	for (size_t i = 0; i < cfg->n_oidc; i++) {
		struct oidc_provider_conf *p = &cfg->oidc[i];

		for (size_t k = 0; k < NPROVIDER_OPTIONS; k++)
			if (provider_options[k].type == OPT_STRING)
				free(*(char **)((char *)p + provider_options[k].offset));
		free(p->name);
	}
	free(cfg->oidc);
	cfg->oidc = NULL;
	cfg->n_oidc = 0;
}
