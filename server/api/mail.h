/*
 * mail — what consort tells people by email, and the thread that sends
 * it (docs/notifications.md).
 *
 * Digests: for each person whose time has come (immediate: every round;
 * hourly; daily, the default), the events since their cursor in what
 * they follow, minus their own actions and minus what they cannot read
 * *now* (acl_recipient_wps, acl_event_visible), grouped (activity.h),
 * become one message in the outbox, and the cursor moves past them, in
 * one transaction: an event is in at most one digest of a person.
 *
 * Account mail (mail_account): set-password links, second factor reset,
 * new API token, a broken lock. Queued in the caller's transaction, made
 * into a message by the sender.
 *
 * Sending: one thread (mail_start) wakes every notify-interval, builds
 * due digests, then sends what the outbox holds: over SMTP with libcurl
 * (STARTTLS required for smtp://, AUTH when smtp-user is set) or, with
 * no smtp-url, as files DATA/outbox/ID-KIND.eml. A failed send is
 * retried with a doubling wait (mail-retry .. 15 minutes) for 3 days.
 * A message is marked sent after the server accepted it: delivery is at
 * least once, with the same Message-ID on a repeat (the window is a
 * crash between the server's acceptance and that mark, which is made for
 * up to 16 delivered messages in one transaction; so up to 16 messages).
 * Digests of up to 64 people are queued in one transaction.
 */
#ifndef CONSORT_MAIL_H
#define CONSORT_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct config;
struct db;

enum mail_account_kind {
	MAIL_SET_PASSWORD, /* arg: the link's secret */
	MAIL_TOTP_RESET,   /* arg: who reset it */
	MAIL_NEW_TOKEN,    /* arg: the token's name */
	MAIL_LOCK_BROKEN,  /* arg: "WP1/path" of the lock, and by whom */
	MAIL_SIGNUP,       /* to a coordinator; arg: who waits, e.g. "Name <email> via op" */
};

/* Queue account mail of `kind` to account `user_id` (at its current
 * address). Joins the caller's transaction, so the mail goes only if the
 * change that caused it commits. ERR_NOTFOUND for an unknown account. */
enum err mail_account(struct db *db, int64_t user_id, enum mail_account_kind kind, const char *arg);

struct mail_run {
	size_t people; /* whose digest was due */
	size_t mails;  /* digests queued */
	size_t events; /* events read */
};

/* Build the digests that are due (all with pending events when `force`).
 * Safe to run from several threads: a person's digest is made once. */
enum err mail_digest_run(struct db *db, const struct config *cfg, bool force, struct mail_run *out);

/* Start the sending thread for `cfg` (reads smtp-password-file); links in
 * mail start with `public_url`, which must outlive the thread. */
enum err mail_start(const struct config *cfg, const char *public_url);
/* Make the thread look now (digests, then the outbox). */
void mail_wake(void);
/* Stop the thread (a send in progress finishes). Safe without start. */
void mail_stop(void);

struct mail_stats {
	uint64_t sent;          /* messages handed over since start */
	uint64_t send_failures; /* failed attempts since start */
	bool smtp;              /* false: mail goes to DATA/outbox/ */
	char last_error[256];   /* "" when the last attempt succeeded */
};
void mail_stats(struct mail_stats *out);

/* Queue a notice to account `user_id` at `rcpt` (a review task, a
 * reminder: docs/deliverables.md) in the person's language: the catalog
 * texts `subject_key` and `body_key` (mailtext.h; one paragraph per
 * line) filled from `kv` (name, value..., NULL), and a link to `link`
 * (e.g. "/#/deliverables/D2.1") under the public URL. `id_left` makes
 * the Message-ID (unique per notice). Made now and queued in the
 * caller's transaction as `kind`. */
enum err mail_notice(struct db *db, const struct config *cfg, int64_t user_id, const char *rcpt,
		     const char *kind, const char *id_left, const char *subject_key,
		     const char *body_key, const char *const *kv, const char *link);

#endif
