/*
 * routes — the route table: every endpoint of consort, with the access
 * it needs and how it takes a body. A route is added here and nowhere
 * else; the authorization matrix test walks this table.
 */
#include "routes.h"

#include "api/handlers.h"
#include "dav/h_dav.h"

const struct route routes[] = {
	{"GET", "/", h_app, ACCESS_PUBLIC, RBODY_NONE},
	{"GET", "/assets/{bundle}/{file*}", h_asset, ACCESS_PUBLIC, RBODY_NONE},
	{"GET", "/healthz", h_healthz, ACCESS_PUBLIC, RBODY_NONE},
	{"GET", "/metrics", h_metrics, ACCESS_SCRAPER, RBODY_NONE},
	/* answered only with --test-hooks */
	{"POST", "/_test/sink", h_test_sink, ACCESS_PUBLIC, RBODY_STREAM},
	{"GET", "/_test/source", h_test_source, ACCESS_PUBLIC, RBODY_NONE},
	{"POST", "/_test/notify", h_test_notify, ACCESS_PUBLIC, RBODY_NONE},
	{"POST", "/_test/reminders", h_test_reminders, ACCESS_PUBLIC, RBODY_NONE},

	/* signing in, the caller's own account (h_auth.c) */
	{"POST", "/api/v1/session", h_session_create, ACCESS_PUBLIC, RBODY_JSON},
	{"DELETE", "/api/v1/session", h_session_delete, ACCESS_SESSION, RBODY_NONE},
	{"POST", "/api/v1/session/confirm", h_session_confirm, ACCESS_SESSION, RBODY_JSON},
	{"GET", "/api/v1/me", h_me, ACCESS_USER, RBODY_NONE},
	{"POST", "/api/v1/me/password", h_me_password, ACCESS_SESSION, RBODY_JSON},
	/* sudo mode (acl.h): enrolling a second factor and making a token
	 * are changes a stolen cookie alone must not make */
	{"POST", "/api/v1/me/totp", h_totp_begin, ACCESS_SUDO, RBODY_NONE},
	{"POST", "/api/v1/me/totp/confirm", h_totp_confirm, ACCESS_SUDO, RBODY_JSON},
	{"POST", "/api/v1/me/totp/disable", h_totp_disable, ACCESS_SESSION, RBODY_JSON},
	{"POST", "/api/v1/me/recovery-codes", h_recovery_codes, ACCESS_SESSION, RBODY_JSON},
	{"GET", "/api/v1/tokens", h_tokens_list, ACCESS_USER, RBODY_NONE},
	{"POST", "/api/v1/tokens", h_token_create, ACCESS_SUDO, RBODY_JSON},
	{"DELETE", "/api/v1/tokens/{id}", h_token_revoke, ACCESS_USER, RBODY_NONE},
	{"POST", "/api/v1/set-password", h_set_password, ACCESS_PUBLIC, RBODY_JSON},

	/* OpenID Connect sign-in and its approval queue (h_oidc.c); the
	 * fixed names come before {provider} (config refuses them as names) */
	{"GET", "/api/v1/auth/oidc", h_oidc_providers, ACCESS_PUBLIC, RBODY_NONE},
	{"GET", "/api/v1/auth/oidc/callback", h_oidc_callback, ACCESS_PUBLIC, RBODY_NONE},
	{"POST", "/api/v1/auth/oidc/totp", h_oidc_totp, ACCESS_PUBLIC, RBODY_JSON},
	{"GET", "/api/v1/auth/oidc/logout", h_oidc_logout, ACCESS_PUBLIC, RBODY_NONE},
	{"GET", "/api/v1/auth/oidc/{provider}", h_oidc_start, ACCESS_PUBLIC, RBODY_NONE},
	{"GET", "/api/v1/signups", h_signups_list, ACCESS_COORDINATOR, RBODY_NONE},
	{"POST", "/api/v1/signups/{id}/approve", h_signup_approve, ACCESS_COORDINATOR_SUDO,
	 RBODY_JSON},
	{"DELETE", "/api/v1/signups/{id}", h_signup_refuse, ACCESS_COORDINATOR, RBODY_NONE},

	/* accounts and partners (h_users.c); every change to an account is
	 * sudo mode: credentials and privileges live there */
	{"GET", "/api/v1/users", h_users_list, ACCESS_COORDINATOR, RBODY_NONE},
	{"POST", "/api/v1/users", h_user_create, ACCESS_COORDINATOR_SUDO, RBODY_JSON},
	{"PATCH", "/api/v1/users/{id}", h_user_update, ACCESS_COORDINATOR_SUDO, RBODY_JSON},
	{"POST", "/api/v1/users/{id}/password-link", h_user_link, ACCESS_COORDINATOR_SUDO,
	 RBODY_NONE},
	{"GET", "/api/v1/partners", h_partners_list, ACCESS_USER, RBODY_NONE},
	{"POST", "/api/v1/partners", h_partner_create, ACCESS_COORDINATOR, RBODY_JSON},

	/* work packages and grants (h_wps.c) */
	{"GET", "/api/v1/wps", h_wps_list, ACCESS_USER, RBODY_NONE},
	{"POST", "/api/v1/wps", h_wp_create, ACCESS_COORDINATOR, RBODY_JSON},
	{"GET", "/api/v1/wps/{wp}", h_wp_get, ACCESS_WP_READ, RBODY_NONE},
	/* title, lead: managers; quota, retention, archived: coordinators */
	{"PATCH", "/api/v1/wps/{wp}", h_wp_patch, ACCESS_WP_MANAGE, RBODY_JSON},
	{"GET", "/api/v1/wps/{wp}/grants", h_grants_list, ACCESS_WP_MANAGE, RBODY_NONE},
	{"PUT", "/api/v1/wps/{wp}/grants", h_grant_set, ACCESS_WP_MANAGE, RBODY_JSON},

	/* documents (h_docs.c) */
	{"GET", "/api/v1/wps/{wp}/tree/{path*}", h_tree_get, ACCESS_WP_READ, RBODY_NONE},
	{"PATCH", "/api/v1/wps/{wp}/tree/{path*}", h_tree_patch, ACCESS_WP_WRITE, RBODY_JSON},
	{"DELETE", "/api/v1/wps/{wp}/tree/{path*}", h_tree_delete, ACCESS_WP_WRITE, RBODY_NONE},
	{"GET", "/api/v1/wps/{wp}/content/{path*}", h_content_get, ACCESS_WP_READ, RBODY_NONE},
	{"PUT", "/api/v1/wps/{wp}/content/{path*}", h_content_put, ACCESS_WP_WRITE, RBODY_STREAM},
	{"POST", "/api/v1/wps/{wp}/folders", h_folder_create, ACCESS_WP_WRITE, RBODY_JSON},
	{"POST", "/api/v1/wps/{wp}/restore", h_version_restore, ACCESS_WP_WRITE, RBODY_JSON},
	{"POST", "/api/v1/wps/{wp}/move", h_move, ACCESS_WP_WRITE, RBODY_JSON},
	{"GET", "/api/v1/wps/{wp}/trash", h_trash_list, ACCESS_WP_READ, RBODY_NONE},
	{"POST", "/api/v1/wps/{wp}/trash/{id}/restore", h_trash_restore, ACCESS_WP_WRITE,
	 RBODY_OPTIONAL_JSON},
	{"DELETE", "/api/v1/wps/{wp}/trash/{id}", h_trash_purge, ACCESS_WP_MANAGE, RBODY_NONE},

	/* check-out, the same lock as WebDAV's (api/checkout.c);
	 * a manager's DELETE breaks another's (acl_may_unlock) */
	{"GET", "/api/v1/wps/{wp}/locks/{path*}", h_lock_get, ACCESS_WP_READ, RBODY_NONE},
	{"POST", "/api/v1/wps/{wp}/locks/{path*}", h_lock_create, ACCESS_WP_WRITE,
	 RBODY_OPTIONAL_JSON},
	{"DELETE", "/api/v1/wps/{wp}/locks/{path*}", h_lock_delete, ACCESS_WP_WRITE, RBODY_NONE},

	/* resumable uploads, tus 1.0 (h_tus.c); a creation names its work
	 * package in Upload-Metadata, which the policy reads; later requests
	 * find only their own upload, and PATCH asks acl_authorize_wp for
	 * write access to the upload's work package */
	{"OPTIONS", "/api/v1/uploads", h_tus_options, ACCESS_PUBLIC, RBODY_NONE},
	{"OPTIONS", "/api/v1/uploads/{id}", h_tus_options, ACCESS_PUBLIC, RBODY_NONE},
	{"POST", "/api/v1/uploads", h_tus_create, ACCESS_WP_WRITE_BY_METADATA, RBODY_STREAM},
	{"HEAD", "/api/v1/uploads/{id}", h_tus_head, ACCESS_UPLOAD_OWNER, RBODY_NONE},
	{"PATCH", "/api/v1/uploads/{id}", h_tus_patch, ACCESS_UPLOAD_OWNER, RBODY_STREAM},
	{"DELETE", "/api/v1/uploads/{id}", h_tus_delete, ACCESS_UPLOAD_OWNER, RBODY_NONE},
	{"POST", "/api/v1/uploads/{id}", h_tus_override, ACCESS_UPLOAD_OWNER, RBODY_STREAM},

	/* the WebDAV network drive (h_dav.c, docs/webdav.md). OPTIONS is
	 * public and says the same everywhere (Windows and Office ask it
	 * before authenticating, "/" included); COPY reads its source, MOVE
	 * writes it, and both write the work package of their Destination. */
	{"OPTIONS", "/", h_dav_options, ACCESS_PUBLIC, RBODY_NONE},
	{"OPTIONS", "/dav", h_dav_options, ACCESS_PUBLIC, RBODY_NONE},
	{"OPTIONS", "/dav/", h_dav_options, ACCESS_PUBLIC, RBODY_NONE},
	{"OPTIONS", "/dav/{wp}/{path*}", h_dav_options, ACCESS_PUBLIC, RBODY_NONE},
	{"PROPFIND", "/dav", h_dav_propfind_root, ACCESS_USER, RBODY_STREAM},
	{"PROPFIND", "/dav/", h_dav_propfind_root, ACCESS_USER, RBODY_STREAM},
	{"PROPFIND", "/dav/{wp}/{path*}", h_dav_propfind, ACCESS_WP_READ, RBODY_STREAM},
	{"GET", "/dav/{wp}/{path*}", h_dav_get, ACCESS_WP_READ, RBODY_NONE},
	{"PUT", "/dav/{wp}/{path*}", h_dav_put, ACCESS_WP_WRITE, RBODY_STREAM},
	{"DELETE", "/dav/{wp}/{path*}", h_dav_delete, ACCESS_WP_WRITE, RBODY_NONE},
	{"MKCOL", "/dav/{wp}/{path*}", h_dav_mkcol, ACCESS_WP_WRITE, RBODY_STREAM},
	{"COPY", "/dav/{wp}/{path*}", h_dav_copy, ACCESS_DAV_COPY, RBODY_NONE},
	{"MOVE", "/dav/{wp}/{path*}", h_dav_move, ACCESS_DAV_MOVE, RBODY_NONE},
	{"PROPPATCH", "/dav/{wp}/{path*}", h_dav_proppatch, ACCESS_WP_WRITE, RBODY_STREAM},
	{"LOCK", "/dav/{wp}/{path*}", h_dav_lock, ACCESS_WP_WRITE, RBODY_STREAM},
	{"UNLOCK", "/dav/{wp}/{path*}", h_dav_unlock, ACCESS_WP_WRITE, RBODY_NONE},

	/* the deliverable register and internal reviews (h_deliverables.c);
	 * a deliverable's WP is in its record, so the handlers ask acl.c
	 * (unreadable = 404) */
	{"GET", "/api/v1/deliverables", h_deliverables_list, ACCESS_USER, RBODY_NONE},
	{"POST", "/api/v1/deliverables/import", h_deliverables_import, ACCESS_COORDINATOR,
	 RBODY_TEXT},
	{"GET", "/api/v1/deliverables/{code}", h_deliverable_get, ACCESS_USER, RBODY_NONE},
	{"PATCH", "/api/v1/deliverables/{code}", h_deliverable_patch, ACCESS_USER, RBODY_JSON},
	{"POST", "/api/v1/deliverables/{code}/reviews", h_review_start, ACCESS_USER, RBODY_JSON},
	{"GET", "/api/v1/deliverables/{code}/reviews/{id}", h_review_get, ACCESS_USER, RBODY_NONE},
	{"POST", "/api/v1/deliverables/{code}/reviews/{id}/decision", h_review_decide, ACCESS_USER,
	 RBODY_JSON},
	{"GET", "/api/v1/me/reviews", h_my_reviews, ACCESS_USER, RBODY_NONE},
	{"PUT", "/api/v1/deliverables/{code}/reviews/{id}/attachment", h_review_attach, ACCESS_USER,
	 RBODY_STREAM},
	{"PUT", "/api/v1/deliverables/{code}/submission", h_deliverable_submit, ACCESS_USER,
	 RBODY_STREAM},
	/* what changed between two versions (h_diff.c) */
	{"GET", "/api/v1/wps/{wp}/diff/{path*}", h_diff, ACCESS_WP_READ, RBODY_NONE},
	/* page images (h_preview.c, api/preview.h): read access, like a download */
	{"GET", "/api/v1/wps/{wp}/preview/{path*}", h_preview, ACCESS_WP_READ, RBODY_NONE},
	/* activity, following and notification mail (h_notify.c); the
	 * unsubscribe secret is the authority of its two routes */
	{"GET", "/api/v1/activity", h_activity, ACCESS_USER, RBODY_NONE},
	{"GET", "/api/v1/follows", h_follows_list, ACCESS_USER, RBODY_NONE},
	{"PUT", "/api/v1/follows", h_follow_put, ACCESS_USER, RBODY_JSON},
	{"DELETE", "/api/v1/follows", h_follow_delete, ACCESS_USER, RBODY_OPTIONAL_JSON},
	{"GET", "/api/v1/me/notifications", h_notify_get, ACCESS_USER, RBODY_NONE},
	{"PUT", "/api/v1/me/notifications", h_notify_put, ACCESS_USER, RBODY_JSON},
	{"GET", "/api/v1/unsubscribe/{secret}", h_unsubscribe_page, ACCESS_PUBLIC, RBODY_NONE},
	{"POST", "/api/v1/unsubscribe/{secret}", h_unsubscribe, ACCESS_PUBLIC, RBODY_STREAM},
	/* the directory, news, events and calendar feeds (h_directory.c,
	 * docs/directory.md); who may post is asked of the policy by the
	 * handlers (acl_may_post), which events show by acl_event_visible;
	 * a calendar feed's secret in its URL is its credential */
	{"GET", "/api/v1/directory", h_directory, ACCESS_USER, RBODY_NONE},
	{"GET", "/api/v1/partners/{short}", h_partner_get, ACCESS_USER, RBODY_NONE},
	{"PATCH", "/api/v1/partners/{short}", h_partner_update, ACCESS_COORDINATOR, RBODY_JSON},
	{"PUT", "/api/v1/users/{id}/roles", h_user_roles, ACCESS_COORDINATOR_SUDO, RBODY_JSON},
	{"GET", "/api/v1/news", h_news_list, ACCESS_USER, RBODY_NONE},
	{"POST", "/api/v1/news", h_news_create, ACCESS_USER, RBODY_JSON},
	{"DELETE", "/api/v1/news/{id}", h_news_delete, ACCESS_USER, RBODY_NONE},
	{"PATCH", "/api/v1/news/{id}", h_news_update, ACCESS_USER, RBODY_JSON},
	{"GET", "/api/v1/events", h_events_list, ACCESS_USER, RBODY_NONE},
	{"POST", "/api/v1/events", h_event_create, ACCESS_USER, RBODY_JSON},
	{"GET", "/api/v1/events/{id}", h_event_get, ACCESS_USER, RBODY_NONE},
	{"DELETE", "/api/v1/events/{id}", h_event_delete, ACCESS_USER, RBODY_NONE},
	{"PATCH", "/api/v1/events/{id}", h_event_update, ACCESS_USER, RBODY_JSON},
	{"GET", "/api/v1/me/calendar", h_calendar_state, ACCESS_USER, RBODY_NONE},
	{"POST", "/api/v1/me/calendar", h_calendar_create, ACCESS_SESSION, RBODY_NONE},
	{"DELETE", "/api/v1/me/calendar", h_calendar_revoke, ACCESS_SESSION, RBODY_NONE},
	{"GET", "/calendar/{secret}", h_calendar_feed, ACCESS_PUBLIC, RBODY_NONE},
	/* pictures go through the image helper (imgsan.h) */
	{"POST", "/api/v1/images", h_image_upload, ACCESS_USER, RBODY_STREAM},
	{"GET", "/api/v1/images/{id}", h_image_get, ACCESS_USER, RBODY_NONE},
	{"PUT", "/api/v1/partners/{short}/logo", h_partner_logo, ACCESS_COORDINATOR, RBODY_STREAM},

	/* share links (h_links.c, docs/links.md): made by writers within
	 * their work package's policy; the recipient's routes carry the
	 * link's secret, which the policy turns into the "link" principal
	 * (acl_link_open) and which the access log leaves out */
	{"POST", "/api/v1/links", h_link_create, ACCESS_USER, RBODY_JSON},
	{"GET", "/api/v1/links", h_links_list, ACCESS_USER, RBODY_NONE},
	{"DELETE", "/api/v1/links/{id}", h_link_revoke, ACCESS_USER, RBODY_NONE},
	{"GET", "/s/{secret}", h_app, ACCESS_PUBLIC, RBODY_NONE},
	{"GET", "/api/v1/s/{secret}", h_share_get, ACCESS_PUBLIC, RBODY_NONE},
	{"POST", "/api/v1/s/{secret}/unlock", h_share_unlock, ACCESS_PUBLIC, RBODY_JSON},
	{"GET", "/api/v1/s/{secret}/file", h_share_file, ACCESS_PUBLIC, RBODY_NONE},
	{"GET", "/api/v1/s/{secret}/zip", h_share_zip, ACCESS_PUBLIC, RBODY_NONE},
	/* a drop link's uploads, tus 1.0 (h_tus.c); the link is decided in
	 * the handler (acl_link_open), on every request */
	{"OPTIONS", "/api/v1/s/{secret}/uploads", h_tus_options, ACCESS_PUBLIC, RBODY_NONE},
	{"OPTIONS", "/api/v1/s/{secret}/uploads/{id}", h_tus_options, ACCESS_PUBLIC, RBODY_NONE},
	{"POST", "/api/v1/s/{secret}/uploads", h_tus_link_create, ACCESS_PUBLIC, RBODY_STREAM},
	{"HEAD", "/api/v1/s/{secret}/uploads/{id}", h_tus_link_head, ACCESS_PUBLIC, RBODY_NONE},
	{"PATCH", "/api/v1/s/{secret}/uploads/{id}", h_tus_link_patch, ACCESS_PUBLIC, RBODY_STREAM},
	{"DELETE", "/api/v1/s/{secret}/uploads/{id}", h_tus_link_delete, ACCESS_PUBLIC, RBODY_NONE},

	/* the audit log (h_audit.c) */
	{"GET", "/api/v1/audit", h_audit, ACCESS_COORDINATOR, RBODY_NONE},
	{"GET", "/api/v1/search", h_search, ACCESS_USER, RBODY_NONE},
};

const size_t nroutes = sizeof routes / sizeof routes[0];
