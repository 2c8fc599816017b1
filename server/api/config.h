/*
 * config — every setting of `consort serve`, from defaults, a config
 * file and command-line flags (flags win over the file).
 *
 * Options live in one table (config.c) that gives each its key, type,
 * bounds and documentation; `--key value` on the command line and
 * `key = value` in the file name the same option, and docs/config.md is
 * written from the same table (`consort serve --help-config`). An
 * unknown key or a bad value refuses to start, naming the file and line
 * or the flag, and the reason.
 */
#ifndef CONSORT_CONFIG_H
#define CONSORT_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "extract.h"
#include "http/http.h"

enum log_format { LOG_PLAIN, LOG_JSON };

/* An OpenID Connect provider: a `[oidc NAME]` section of the config
 * file (docs/accounts.md). Lists are comma-separated. */
struct oidc_provider_conf {
	char *name;   /* the section's NAME: [a-z0-9-], in URLs */
	char *title;  /* the button's text; default NAME */
	char *issuer; /* exact `iss`; discovery is ISSUER/.well-known/... */
	char *client_id;
	char *client_secret_file; /* one line; NULL: a public client (PKCE only) */
	char *scopes;             /* default "openid email profile" */
	char *email_claim;        /* default "email" */
	char *name_claim;         /* default "name" */
	char *partner_claim;      /* e.g. schac_home_organization; NULL: none */
	char *partner_map;        /* "claim-value=SHORT, ..." */
	char *email_domains;      /* allowed domains; NULL: any */
	char *mfa_amr;            /* amr values that count as MFA; default "mfa" */
	char *mfa_acr;            /* acr values that count as MFA; NULL: none */
	bool userinfo;            /* ask the UserInfo endpoint too */
};

struct config {
	char *data_dir;
	char *listen; /* HOST:PORT, IPv6 as [::1]:8443 */
	char *cert;   /* NULL: self-signed in DATA/tls */
	char *key;
	char *public_url; /* NULL: links from the default, Host unchecked */
	char *config_file;
	unsigned workers; /* 0: number of cores */
	unsigned max_connections;
	unsigned shutdown_grace_ms;
	struct http_limits http;
	uint64_t max_json_body; /* bytes */
	uint64_t max_upload;    /* bytes, one document version */
	enum log_format log_format;
	bool access_log;
	bool test_hooks; /* enables /_test/ routes for the test suite */
	/* text extraction for search, per document (search/extract.h) */
	struct extract_limits extract;
	unsigned index_poll_ms;         /* idle indexer's look at its queue */
	unsigned index_gap_ms;          /* least time between indexer batches */
	unsigned extract_first_seconds; /* CPU budget of a document's first try */
	char *index_language;           /* documents that say and show none; NULL: none */
	/* operations (issue 8) */
	char *metrics_allow;      /* CIDR list; NULL: loopback */
	char *metrics_token_file; /* NULL: no token */
	unsigned metrics_blob_walk_ms;
	/* blobs on S3 (issue 22, docs/storage.md); NULL: as DATA/blob-store says */
	char *blob_store; /* "local" or "s3" */
	char *s3_endpoint, *s3_region, *s3_bucket, *s3_addressing;
	char *s3_credentials_file, *s3_ca_file;
	unsigned s3_parallel_parts; /* parts of one upload in flight at once */
	uint64_t s3_cache_size;     /* bytes of DATA/cache; 0: no read cache */
	/* Store-wide defaults, written to the settings table at start so
	 * that `consort gc` and other commands apply the same rules. */
	uint64_t default_quota;         /* bytes per work package; 0: unlimited */
	unsigned default_keep_versions; /* 0: no count rule */
	unsigned default_keep_days;     /* 0: no age rule */
	unsigned gc_interval_ms;        /* the server's own gc; 0: off */
	/* accounts and sign-in (issue 4) */
	unsigned session_idle_ms;        /* a session unused this long ends */
	unsigned session_max_ms;         /* a session ends this long after login */
	unsigned password_link_ms;       /* validity of a set-password link */
	unsigned login_account_failures; /* failures before an account locks */
	unsigned login_address_failures; /* failures before an address locks */
	unsigned login_lockout_ms;       /* first lockout; doubles per failure */
	unsigned login_lockout_max_ms;
	/* notifications and mail (issue 15, docs/notifications.md) */
	char *smtp_url;              /* NULL: mail is written to DATA/outbox/ */
	char *smtp_user;             /* NULL: no SMTP AUTH */
	char *smtp_password_file;    /* the SMTP password, first line */
	char *smtp_ca_file;          /* PEM CAs to verify the mail server; NULL: system */
	char *mail_from;             /* From: of every mail */
	unsigned notify_interval_ms; /* how often digests and the outbox are looked at */
	unsigned mail_retry_ms;      /* first retry after a failed send; doubles */
	unsigned argon2_memory_kib;
	unsigned argon2_iterations;
	unsigned argon2_parallelism;
	unsigned job_threads; /* 0: number of cores */
	unsigned io_threads;  /* disk work (storing uploads) */
	/* resumable uploads (issue 5) */
	unsigned upload_expiry_ms;      /* an unfinished tus upload lives this long */
	unsigned upload_sync_ms;        /* a tus PATCH's bytes made durable this often */
	unsigned uploads_per_user;      /* unfinished tus uploads per user */
	uint64_t upload_bytes_per_user; /* their announced lengths together */
	/* previews (issue 18) */
	uint64_t preview_cache_size; /* bytes; 0: a share of the blob store */
	unsigned preview_threads;
	unsigned preview_converters; /* LibreOffice processes; 0: by the cores */
	unsigned preview_seconds;    /* wall and CPU time of one preview task */
	uint64_t preview_memory;     /* address space of a preview helper */
	/* deliverables (issue 17) */
	char *project_start; /* YYYY-MM-DD; NULL: due months have no date */
	/* the largest annotated or submitted file, bytes; how often the
	 * reminders are looked for (dlvremind.h; 0: never) and how many days
	 * before a due date they go */
	uint64_t review_file_max;
	unsigned reminder_interval_ms;
	unsigned reminder_days;
	/* OpenID Connect sign-in (issue 19); its redirect URI starts with
	 * public_url, which it requires */
	char *oidc_ca_file;            /* CA bundle for the providers; NULL: the system's */
	unsigned oidc_jwks_refetch_ms; /* least time between refetches for unknown kids */
	struct oidc_provider_conf *oidc;
	size_t n_oidc;
	/* malware scanning (issue 23, api/scan.h); no socket: off */
	char *clamd_socket;  /* unix socket path */
	char *clamd_address; /* HOST:PORT */
	unsigned clamd_timeout_ms;
	unsigned clamd_wait_ms;
	char *scan_unscannable; /* refuse | accept-unscanned; NULL: refuse */
	char *scan_unreachable; /* refuse | accept-unscanned; NULL: refuse */
};

/* Fill `cfg` with defaults. */
void config_defaults(struct config *cfg);

/* Apply `consort serve` arguments: a first pass finds --config FILE and
 * reads it, a second applies the flags on top. argv[0] is the first
 * argument after the subcommand. On error the detail names the flag or
 * file:line and the reason. */
enum err config_load(struct config *cfg, int argc, char **argv);

/* Checks across options and against the system (certificate, key and
 * token files exist and are readable; the metrics allow list parses).
 * config_load ends with it. */
enum err config_check(const struct config *cfg);

/* Write the option reference (markdown) to `out`. */
void config_write_reference(FILE *out);

/* Release strings owned by cfg. */
void config_free(struct config *cfg);

/* A byte count as options take it ("300M", "2G", "1048576"; K, M, G, T
 * are powers of 1024). NULL when valid (*out set), else the reason
 * ("is not a number"). */
const char *config_parse_bytes(const char *value, uint64_t *out);

#endif
