/*
 * handlers — the API's functions the route table points at, grouped by
 * the file that implements them (the network drive's are in
 * dav/h_dav.h). Each takes the call prepared by the router
 * (matched, authorized, body parsed when JSON) and answers it.
 */
#ifndef CONSORT_HANDLERS_H
#define CONSORT_HANDLERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct call;

/* h_static.c */
void h_app(struct call *call);
void h_asset(struct call *call);
/* h_search.c */
void h_search(struct call *call);

/* h_system.c */
void h_healthz(struct call *call);
void h_metrics(struct call *call);

/* h_test.c (only with --test-hooks) */
void h_test_sink(struct call *call);
void h_test_source(struct call *call);
void h_test_notify(struct call *call);
void h_test_reminders(struct call *call);
/* h_oidc.c */
void h_oidc_providers(struct call *call);
void h_oidc_start(struct call *call);
void h_oidc_callback(struct call *call);
void h_oidc_totp(struct call *call);
void h_oidc_logout(struct call *call);
void h_signups_list(struct call *call);
void h_signup_approve(struct call *call);
void h_signup_refuse(struct call *call);
/* h_auth.c */
void h_session_create(struct call *call);
void h_session_confirm(struct call *call);
void h_session_delete(struct call *call);
void h_me(struct call *call);
void h_me_password(struct call *call);
void h_totp_begin(struct call *call);
void h_totp_confirm(struct call *call);
void h_totp_disable(struct call *call);
void h_recovery_codes(struct call *call);
void h_tokens_list(struct call *call);
void h_token_create(struct call *call);
void h_token_revoke(struct call *call);
void h_set_password(struct call *call);

/* h_users.c */
void h_users_list(struct call *call);
void h_user_create(struct call *call);
void h_user_update(struct call *call);
void h_user_link(struct call *call);
void h_partners_list(struct call *call);
void h_partner_create(struct call *call);

/* h_wps.c */
void h_wps_list(struct call *call);
void h_wp_create(struct call *call);
void h_wp_get(struct call *call);
void h_wp_patch(struct call *call);
/* check-out (checkout.c) */
void h_lock_get(struct call *call);
void h_lock_create(struct call *call);
void h_lock_delete(struct call *call);
void h_grants_list(struct call *call);
void h_grant_set(struct call *call);

/* h_docs.c */
void h_tree_get(struct call *call);
void h_tree_patch(struct call *call);
void h_tree_delete(struct call *call);
void h_content_get(struct call *call);
void h_content_put(struct call *call);
void h_folder_create(struct call *call);
void h_version_restore(struct call *call);
void h_move(struct call *call);
void h_trash_list(struct call *call);
void h_trash_restore(struct call *call);
void h_trash_purge(struct call *call);

/* h_tus.c */
void h_tus_options(struct call *call);
void h_tus_create(struct call *call);
void h_tus_head(struct call *call);
void h_tus_patch(struct call *call);
void h_tus_delete(struct call *call);
void h_tus_override(struct call *call);
/* Close the writers kept open between chunks; at shutdown, after the
 * workers have stopped. */
void tus_close_all(void);

/* h_deliverables.c */
void h_deliverables_list(struct call *call);
void h_deliverables_import(struct call *call);
void h_deliverable_get(struct call *call);
void h_deliverable_patch(struct call *call);
void h_review_start(struct call *call);
void h_review_get(struct call *call);
void h_review_decide(struct call *call);
void h_my_reviews(struct call *call);
void h_review_attach(struct call *call);
void h_deliverable_submit(struct call *call);
/* h_diff.c */
void h_diff(struct call *call);

/* h_preview.c */
void h_preview(struct call *call);
/* h_notify.c */
void h_activity(struct call *call);
void h_follows_list(struct call *call);
void h_follow_put(struct call *call);
void h_follow_delete(struct call *call);
void h_notify_get(struct call *call);
void h_notify_put(struct call *call);
void h_unsubscribe(struct call *call);
void h_unsubscribe_page(struct call *call);
/* h_directory.c: the directory, news, events, calendar feeds */
void h_directory(struct call *call);
void h_partner_get(struct call *call);
void h_partner_update(struct call *call);
void h_user_roles(struct call *call);
void h_news_list(struct call *call);
void h_news_create(struct call *call);
void h_news_delete(struct call *call);
void h_news_update(struct call *call);
void h_events_list(struct call *call);
void h_event_create(struct call *call);
void h_event_get(struct call *call);
void h_event_delete(struct call *call);
void h_event_update(struct call *call);
void h_calendar_state(struct call *call);
void h_calendar_create(struct call *call);
void h_calendar_revoke(struct call *call);
void h_calendar_feed(struct call *call);

/* h_links.c: share links (docs/links.md) */
void h_link_create(struct call *call);
void h_links_list(struct call *call);
void h_link_revoke(struct call *call);
void h_share_get(struct call *call);
void h_share_unlock(struct call *call);
void h_share_file(struct call *call);
void h_share_zip(struct call *call);
struct link;
/* The drop link of the request's {secret}, open and unlocked (its key
 * when it has a password); otherwise answers (404, 401) and false.
 * Fills *l (link_clear it). */
bool share_drop_open(struct call *call, struct link *l);
/* h_tus.c: uploads through a drop link, /api/v1/s/{secret}/uploads */
void h_tus_link_create(struct call *call);
void h_tus_link_head(struct call *call);
void h_tus_link_patch(struct call *call);
void h_tus_link_delete(struct call *call);
void h_image_upload(struct call *call);
void h_partner_logo(struct call *call);
void h_image_get(struct call *call);
/* The directory's section of the search answer (people, partners, the
 * readable work packages of `readable`) matching `q`: a JSON array,
 * new reference, empty when nothing matches or on error. */
json_t *directory_search_json(struct call *call, const char *q, const int64_t *readable,
			      size_t nreadable);

/* h_audit.c */
void h_audit(struct call *call);

#endif
