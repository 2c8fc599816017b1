/*
 * oidcstore — what OpenID Connect sign-in keeps (server/api/oidc.h does
 * the protocol): sign-ins in flight (state, nonce, PKCE verifier, the
 * browser they belong to), which provider subject is which account,
 * people waiting for a coordinator's approval, and sign-ins that passed
 * the provider and still owe the local one-time code.
 *
 * Secrets handed out (state, browser binding, second-factor ticket) are
 * stored only as SHA-256, like session cookies.
 */
#ifndef CONSORT_OIDCSTORE_H
#define CONSORT_OIDCSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "err.h"

#define OIDC_HASH_LEN 32

/* A sign-in in flight, from the redirect to the provider until its
 * callback. */
struct oidc_flow {
	char *provider;
	char *nonce;
	char *verifier; /* PKCE code_verifier */
	unsigned char browser_hash[OIDC_HASH_LEN];
	int64_t expires_at;
};

void oidc_flow_clear(struct oidc_flow *f);

/* Store a flow under the hash of its `state`; flows past their end are
 * removed on the way. */
enum err oidc_flow_put(struct db *db, const unsigned char state_hash[OIDC_HASH_LEN],
		       const struct oidc_flow *f);
/* Take the flow of a state out: it is deleted whatever the caller then
 * finds, so a state works once. ERR_NOTFOUND for an unknown, used or
 * expired state. */
enum err oidc_flow_take(struct db *db, const unsigned char state_hash[OIDC_HASH_LEN],
			struct oidc_flow *out);

/* The account linked to a provider's subject; ERR_NOTFOUND if none. */
enum err oidc_link_find(struct db *db, const char *provider, const char *subject, int64_t *user_id);
enum err oidc_link_add(struct db *db, const char *provider, const char *subject, int64_t user_id);
/* Record a sign-in through a link. */
enum err oidc_link_touch(struct db *db, const char *provider, const char *subject);

/* A person the provider vouched for who has no account yet. */
struct oidc_pending {
	int64_t id;
	char *provider;
	char *subject;
	char *email;
	char *name;
	char *partner_hint; /* partner short from partner-map, or NULL */
	char *org;          /* the partner claim's value, or NULL */
	int64_t created_at;
	int64_t last_seen;
};

void oidc_pending_clear(struct oidc_pending *p);
void oidc_pendings_free(struct oidc_pending *p, size_t n);
/* Record (or refresh: same provider and subject) a person waiting for
 * approval. *id the row's id; *is_new whether it is new. */
enum err oidc_pending_put(struct db *db, const struct oidc_pending *p, int64_t *id, bool *is_new);
enum err oidc_pending_get(struct db *db, int64_t id, struct oidc_pending *out);
enum err oidc_pending_list(struct db *db, struct oidc_pending **out, size_t *n);
enum err oidc_pending_delete(struct db *db, int64_t id);

/* A sign-in that passed the provider and owes the account's one-time
 * code: a ticket the browser answers with the code within minutes. */
struct oidc_ticket {
	int64_t user_id;
	char *provider;
	char *subject;
	char *sid; /* the provider's session id, or NULL */
};

void oidc_ticket_clear(struct oidc_ticket *t);
enum err oidc_ticket_put(struct db *db, const unsigned char hash[OIDC_HASH_LEN],
			 const struct oidc_ticket *t, int64_t expires_at);
/* The live ticket with this hash; not removed (a wrong code may be
 * retried until the throttle stops it). */
enum err oidc_ticket_get(struct db *db, const unsigned char hash[OIDC_HASH_LEN],
			 struct oidc_ticket *out);
enum err oidc_ticket_delete(struct db *db, const unsigned char hash[OIDC_HASH_LEN]);

/* Record that a session was begun at `provider` (its session id `sid`
 * may be NULL) and whether the provider's second factor (amr/acr) was
 * passed, which satisfies "second factor required". */
enum err oidc_session_mark(struct db *db, int64_t session_id, const char *provider, const char *sid,
			   bool mfa);
/* End the sessions begun at one of `providers` (n names) with session
 * id `sid` (front-channel logout); their users' ids into *users (up to
 * `cap`), their number into *ended. */
enum err oidc_sessions_end(struct db *db, const char *const *providers, size_t n, const char *sid,
			   int64_t *users, size_t cap, size_t *ended);

#endif
