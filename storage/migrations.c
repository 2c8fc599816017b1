/* migrations — see migrations.h. Times are Unix seconds (INTEGER). */
#include "migrations.h"

static const char m001_initial[] =
	/* An institution of the consortium. */
	"CREATE TABLE partners ("
	"  id INTEGER PRIMARY KEY,"
	"  short TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  name TEXT NOT NULL,"
	"  country TEXT NOT NULL CHECK (length(country) = 2),"
	"  created_at INTEGER NOT NULL"
	");"
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	"  email TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  name TEXT NOT NULL,"
	"  partner_id INTEGER NOT NULL REFERENCES partners(id),"
	"  coordinator INTEGER NOT NULL DEFAULT 0,"
	"  password_hash TEXT," /* Argon2id encoded string */
	"  password_changed_at INTEGER,"
	"  totp_secret BLOB," /* NULL: no second factor */
	/* A second factor being enrolled: the secret shown to the user lives
	 * here until a first code from it is confirmed, so a half-finished
	 * enrolment never locks anyone out. */
	"  totp_pending BLOB,"
	"  totp_last_step INTEGER NOT NULL DEFAULT 0," /* replay guard */
	"  totp_required INTEGER NOT NULL DEFAULT 0,"
	"  disabled INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL"
	");"
	"CREATE TABLE recovery_codes ("
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  code_hash BLOB NOT NULL,"
	"  used_at INTEGER,"
	"  PRIMARY KEY (user_id, code_hash)"
	");"
	/* Secrets (session cookies, API tokens, set-password links) are
	 * stored only as SHA-256 hashes of the random value handed out. */
	"CREATE TABLE sessions ("
	"  id INTEGER PRIMARY KEY,"
	"  token_hash BLOB NOT NULL UNIQUE,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  csrf TEXT NOT NULL,"
	"  peer TEXT NOT NULL DEFAULT '',"
	"  created_at INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL"
	");"
	"CREATE INDEX sessions_user ON sessions(user_id);"
	"CREATE TABLE tokens ("
	"  id INTEGER PRIMARY KEY,"
	"  token_hash BLOB NOT NULL UNIQUE,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER,"
	"  last_used_at INTEGER,"
	"  revoked_at INTEGER"
	");"
	"CREATE INDEX tokens_user ON tokens(user_id);"
	"CREATE TABLE password_links ("
	"  token_hash BLOB PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  created_by INTEGER REFERENCES users(id),"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  used_at INTEGER"
	");"
	/* A work package. quota_bytes NULL: the server default applies;
	 * keep_versions / keep_days NULL: keep every version. */
	"CREATE TABLE wps ("
	"  id INTEGER PRIMARY KEY,"
	"  code TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  title TEXT NOT NULL,"
	"  lead_partner_id INTEGER REFERENCES partners(id),"
	"  root_id INTEGER," /* nodes.id of the root folder */
	"  quota_bytes INTEGER,"
	"  keep_versions INTEGER,"
	"  keep_days INTEGER,"
	"  created_at INTEGER NOT NULL"
	");"
	/* level: 1 read, 2 write, 3 manage; 'none' is the absence of a row. */
	"CREATE TABLE grants ("
	"  wp_id INTEGER NOT NULL REFERENCES wps(id) ON DELETE CASCADE,"
	"  user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,"
	"  partner_id INTEGER REFERENCES partners(id) ON DELETE CASCADE,"
	"  level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 3),"
	"  granted_by INTEGER REFERENCES users(id),"
	"  granted_at INTEGER NOT NULL,"
	"  CHECK ((user_id IS NULL) <> (partner_id IS NULL))"
	");"
	"CREATE UNIQUE INDEX grants_by_user ON grants(wp_id, user_id)"
	"  WHERE user_id IS NOT NULL;"
	"CREATE UNIQUE INDEX grants_by_partner ON grants(wp_id, partner_id)"
	"  WHERE partner_id IS NOT NULL;"
	"CREATE INDEX grants_user ON grants(user_id);"
	"CREATE INDEX grants_partner ON grants(partner_id);"
	/* Folders and documents share one tree so that a name is unique
	 * among all siblings. name is NFC; name_key is its case fold, the
	 * key for uniqueness. Trashing sets trashed_at on the top node only;
	 * everything below it is unreachable until it is restored. */
	"CREATE TABLE nodes ("
	"  id INTEGER PRIMARY KEY,"
	"  wp_id INTEGER NOT NULL REFERENCES wps(id),"
	"  parent_id INTEGER REFERENCES nodes(id),"
	"  is_folder INTEGER NOT NULL,"
	"  name TEXT NOT NULL,"
	"  name_key TEXT NOT NULL,"
	"  deliverable TEXT,"
	"  status TEXT CHECK (status IN ('draft', 'review', 'final')),"
	"  current_version INTEGER,"
	"  created_at INTEGER NOT NULL,"
	"  created_by INTEGER REFERENCES users(id),"
	"  modified_at INTEGER NOT NULL,"
	"  modified_by INTEGER REFERENCES users(id),"
	"  trashed_at INTEGER,"
	"  trashed_by INTEGER REFERENCES users(id)"
	");"
	"CREATE UNIQUE INDEX nodes_name ON nodes(parent_id, name_key)"
	"  WHERE trashed_at IS NULL;"
	/* Folder listings: folders first, then by case-folded name, read
	 * straight from this index without a sort step (storage/tree.c). */
	"CREATE INDEX nodes_children ON nodes(parent_id, is_folder DESC, name_key)"
	"  WHERE trashed_at IS NULL;"
	"CREATE INDEX nodes_trash ON nodes(wp_id, trashed_at)"
	"  WHERE trashed_at IS NOT NULL;"
	/* A version's content is the blob named by its SHA-256 (hex). */
	"CREATE TABLE versions ("
	"  id INTEGER PRIMARY KEY,"
	"  node_id INTEGER NOT NULL REFERENCES nodes(id),"
	"  number INTEGER NOT NULL,"
	"  blob TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  mime TEXT NOT NULL,"
	"  uploaded_by INTEGER REFERENCES users(id),"
	"  uploaded_at INTEGER NOT NULL,"
	"  comment TEXT NOT NULL DEFAULT '',"
	"  restored_from INTEGER,"
	"  UNIQUE (node_id, number)"
	");"
	"CREATE INDEX versions_blob ON versions(blob);"
	/* Resumable (tus) uploads not yet committed; the bytes live in
	 * DATA/uploads/<id>. */
	"CREATE TABLE uploads ("
	"  id TEXT PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  wp_id INTEGER NOT NULL REFERENCES wps(id),"
	"  path TEXT NOT NULL,"
	"  comment TEXT NOT NULL DEFAULT '',"
	"  metadata TEXT NOT NULL DEFAULT '',"
	"  length INTEGER," /* NULL: deferred length */
	"  offset INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL"
	");"
	"CREATE INDEX uploads_user ON uploads(user_id);"
	/* (No table of pins: an upload protects the blob it is about to
	 * reference from gc with a file lock, storage/cas.h.) */
	/* Search index work, written in the same transaction as the change
	 * it reflects. op: 'index' (content or metadata changed), 'delete'
	 * (trashed or purged). */
	"CREATE TABLE index_queue ("
	"  id INTEGER PRIMARY KEY,"
	"  node_id INTEGER NOT NULL,"
	"  op TEXT NOT NULL CHECK (op IN ('index', 'delete')),"
	"  queued_at INTEGER NOT NULL"
	");"
	"CREATE TABLE index_state ("
	"  node_id INTEGER PRIMARY KEY,"
	"  version INTEGER NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN ('indexed', 'truncated', 'failed')),"
	"  reason TEXT NOT NULL DEFAULT '',"
	"  language TEXT NOT NULL DEFAULT '',"
	"  indexed_at INTEGER NOT NULL"
	");"
	/* Append-only: the triggers below refuse any change to a row. */
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  user_id INTEGER,"
	"  actor TEXT NOT NULL DEFAULT ''," /* email at the time */
	"  peer TEXT NOT NULL DEFAULT '',"
	"  action TEXT NOT NULL,"
	"  wp_id INTEGER,"
	"  object TEXT NOT NULL DEFAULT '',"
	"  detail TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX audit_at ON audit(at);"
	"CREATE INDEX audit_user ON audit(user_id, at);"
	"CREATE INDEX audit_wp ON audit(wp_id, at);"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
	"CREATE TABLE settings ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL"
	");"
	/* --- storage (issue 3): quota accounting. ---
	 * Bytes stored per work package: the sum of versions.size over every
	 * version of every document in it, trashed ones included (the quota
	 * rule in docs/storage.md). Kept by triggers so that no code path can
	 * forget it; a missing row means 0. fsck compares it with the sum. */
	"CREATE TABLE wp_usage ("
	"  wp_id INTEGER PRIMARY KEY REFERENCES wps(id) ON DELETE CASCADE,"
	"  bytes INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE TRIGGER versions_usage_insert AFTER INSERT ON versions BEGIN"
	"  INSERT INTO wp_usage(wp_id, bytes)"
	"    SELECT wp_id, NEW.size FROM nodes WHERE id = NEW.node_id"
	"    ON CONFLICT(wp_id) DO UPDATE SET bytes = bytes + excluded.bytes;"
	"END;"
	"CREATE TRIGGER versions_usage_delete AFTER DELETE ON versions BEGIN"
	"  UPDATE wp_usage SET bytes = bytes - OLD.size"
	"    WHERE wp_id = (SELECT wp_id FROM nodes WHERE id = OLD.node_id);"
	"END;"
	/* Retention and fsck walk documents per work package. */
	"CREATE INDEX nodes_wp ON nodes(wp_id, is_folder);"
	/* --- accounts (issue 4) --- */
	"CREATE INDEX tokens_user_live ON tokens(user_id) WHERE revoked_at IS NULL;"
	"CREATE INDEX password_links_user ON password_links(user_id);"
	"CREATE INDEX audit_action ON audit(action, at);"
	/* --- documents (issue 5) ---
	 * A finished tus upload keeps its row until it expires, with the
	 * version it made, so a client that lost the last answer learns from
	 * HEAD that everything arrived (storage/uploads.h). */
	"ALTER TABLE uploads ADD COLUMN version INTEGER;"
	"ALTER TABLE uploads ADD COLUMN blob TEXT;"
	"CREATE INDEX uploads_expires ON uploads(expires_at);"
	/* --- WebDAV (network drive, storage/davstore.h) ---
	 * Dead properties: what WebDAV clients store on a resource with
	 * PROPPATCH (Windows keeps its file times and attributes here). The
	 * property element is kept whole as self-contained XML text (it
	 * declares every namespace it uses) and given back as it came. They
	 * belong to the node: a move keeps them, a copy copies them, a purge
	 * deletes them. ns '' is the empty namespace. */
	"CREATE TABLE dav_props ("
	"  node_id INTEGER NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,"
	"  ns TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  xml TEXT NOT NULL,"
	"  PRIMARY KEY (node_id, ns, name)"
	") WITHOUT ROWID;"
	/* Write locks (WebDAV class 2). A lock belongs to a URL, not to a
	 * node (RFC 4918 section 6): `path` is the lock root as name keys
	 * joined by '/' ('' for the work package's root), `root` the same
	 * path as the names were spelled, for the lockroot href. They are
	 * kept across restarts and end at expires_at; expired rows are
	 * ignored and removed on the next lock in their work package. */
	"CREATE TABLE dav_locks ("
	"  token TEXT PRIMARY KEY," /* opaquelocktoken:UUID */
	"  wp_id INTEGER NOT NULL REFERENCES wps(id) ON DELETE CASCADE,"
	"  path TEXT NOT NULL,"
	"  root TEXT NOT NULL,"
	"  exclusive INTEGER NOT NULL,"
	"  infinite INTEGER NOT NULL,"      /* Depth: infinity (else 0) */
	"  owner TEXT NOT NULL DEFAULT ''," /* the DAV:owner element as sent */
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  timeout INTEGER NOT NULL," /* seconds granted */
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL"
	");"
	"CREATE INDEX dav_locks_wp ON dav_locks(wp_id, expires_at);"
	"CREATE INDEX dav_locks_user ON dav_locks(user_id);";

/* Sudo mode and token scopes (docs/accounts.md). A session records when
 * its person last proved who they are (sign-in, or the confirm step):
 * changes to credentials and privileges need that within minutes.
 * Existing sessions start stale (0) and confirm once. A token is read
 * or write, and limited to the work packages in token_wps when
 * wp_limited; tokens made before scopes keep working as write on every
 * work package, as they did. wp_limited is explicit so that a token
 * whose last work package disappears is limited to nothing, never
 * widened to everything. */
static const char m002_sudo_scopes[] =
	"ALTER TABLE sessions ADD COLUMN reauth_at INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'write'"
	"  CHECK (scope IN ('read', 'write'));"
	"ALTER TABLE tokens ADD COLUMN wp_limited INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE token_wps ("
	"  token_id INTEGER NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,"
	"  wp_id INTEGER NOT NULL REFERENCES wps(id) ON DELETE CASCADE,"
	"  PRIMARY KEY (token_id, wp_id)"
	") WITHOUT ROWID;";

/* --- deliverables (issue 17, storage/deliverables.h) ---
 * The register: one record per deliverable of the grant agreement, in
 * its work package, held by at most one document (node_id). A review is
 * bound to the content hash of the version it was started on; each
 * reviewer has one decision row (decision NULL: pending). */
static const char m003_deliverables[] =
	"CREATE TABLE deliverables ("
	"  id INTEGER PRIMARY KEY,"
	"  code TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  title TEXT NOT NULL,"
	"  wp_id INTEGER NOT NULL REFERENCES wps(id),"
	"  lead_partner_id INTEGER REFERENCES partners(id),"
	"  due_month INTEGER," /* month of the project, 1-based */
	"  due_date TEXT,"     /* YYYY-MM-DD; overrides due_month */
	"  type TEXT NOT NULL CHECK (type IN ('R','DEM','DEC','DATA','ETHICS','OTHER')),"
	"  dissemination TEXT NOT NULL,"
	"  status TEXT NOT NULL DEFAULT 'planned' CHECK (status IN ('planned','drafting',"
	"    'in_review','approved','submitted','accepted','revision_requested')),"
	/* a purged document leaves its deliverable without one */
	"  node_id INTEGER UNIQUE REFERENCES nodes(id) ON DELETE SET NULL,"
	"  submitted_on TEXT,"
	"  created_at INTEGER NOT NULL"
	");"
	"CREATE INDEX deliverables_wp ON deliverables(wp_id);"
	"CREATE TABLE deliverable_reviews ("
	"  id INTEGER PRIMARY KEY,"
	"  deliverable_id INTEGER NOT NULL REFERENCES deliverables(id) ON DELETE CASCADE,"
	/* the review record outlives a purged document (version and hash) */
	"  node_id INTEGER REFERENCES nodes(id) ON DELETE SET NULL,"
	"  version INTEGER NOT NULL,"
	"  blob TEXT NOT NULL," /* SHA-256 of the reviewed version's content */
	"  due_date TEXT,"
	"  started_by INTEGER REFERENCES users(id),"
	"  started_at INTEGER NOT NULL"
	");"
	"CREATE INDEX deliverable_reviews_dlv ON deliverable_reviews(deliverable_id);"
	"CREATE TABLE review_decisions ("
	"  review_id INTEGER NOT NULL REFERENCES deliverable_reviews(id) ON DELETE CASCADE,"
	"  reviewer_id INTEGER NOT NULL REFERENCES users(id),"
	"  decision TEXT CHECK (decision IN ('approve','changes')),"
	"  comment TEXT NOT NULL DEFAULT '',"
	"  decided_at INTEGER,"
	"  PRIMARY KEY (review_id, reviewer_id)"
	");"
	"CREATE INDEX review_decisions_reviewer ON review_decisions(reviewer_id, decision);";

/* --- notifications (issue 15, docs/notifications.md) ---
 * Events are the audit log's rows (written in the transaction of the
 * change they record); these tables say who follows what, how each person
 * wants mail, and what is waiting to be sent.
 *
 * follows: `path` '' is the whole work package, else a folder or a
 * document as name keys joined by '/'. `active` 0 is an explicit "do not
 * follow" (it outlives an automatic follow and a work package's default);
 * `auto` 1 marks a follow made by an upload. */
static const char m004_notifications[] =
	"CREATE TABLE follows ("
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  wp_id INTEGER NOT NULL REFERENCES wps(id) ON DELETE CASCADE,"
	"  path TEXT NOT NULL DEFAULT '',"
	"  active INTEGER NOT NULL DEFAULT 1,"
	"  auto INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL,"
	"  PRIMARY KEY (user_id, wp_id, path)"
	") WITHOUT ROWID;"
	/* Work packages whose readers follow them unless they said no. */
	"CREATE TABLE follow_defaults ("
	"  wp_id INTEGER PRIMARY KEY REFERENCES wps(id) ON DELETE CASCADE,"
	"  set_by INTEGER,"
	"  set_at INTEGER NOT NULL"
	");"
	/* One row per person, made on first need. `cursor`: the audit id up
	 * to which events were considered for their mail (a digest and the
	 * cursor move in one transaction, so no event is mailed twice);
	 * `unsub` the secret of their one-click unsubscribe link. */
	"CREATE TABLE notify_prefs ("
	"  user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
	"  mode TEXT NOT NULL DEFAULT 'daily'"
	"    CHECK (mode IN ('off', 'immediate', 'hourly', 'daily')),"
	"  auto_follow INTEGER NOT NULL DEFAULT 1,"
	"  cursor INTEGER NOT NULL DEFAULT 0,"
	"  last_mail_at INTEGER NOT NULL DEFAULT 0,"
	"  unsub TEXT NOT NULL UNIQUE"
	");"
	/* Mail to send. `message` is the whole RFC 5322 message, made once
	 * (NULL until then for account mail, which is made by the sender), so
	 * a retry sends the same bytes with the same Message-ID. */
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,"
	"  kind TEXT NOT NULL,"
	"  rcpt TEXT NOT NULL,"
	"  arg TEXT NOT NULL DEFAULT '',"
	"  message TEXT,"
	"  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_at INTEGER NOT NULL,"
	"  last_error TEXT NOT NULL DEFAULT '',"
	"  created_at INTEGER NOT NULL,"
	"  sent_at INTEGER"
	");"
	"CREATE INDEX outbox_due ON outbox(state, next_at);";
/* --- work-package settings and check-out (issue 14) ---
 * archived_at: set while a work package is archived (read-only for
 * everyone, api/acl.c); NULL otherwise. checkout: a lock taken with
 * "Check out" in the app or the API (POST .../locks/{path}) rather than
 * by a WebDAV LOCK; its holder writes with their own session, without
 * the lock token (docs/webdav.md). */
static const char m005_wp_settings[] =
	"ALTER TABLE wps ADD COLUMN archived_at INTEGER;"
	"ALTER TABLE dav_locks ADD COLUMN checkout INTEGER NOT NULL DEFAULT 0;";

/* Names that differ but look the same (issue 13): look_key is the
 * look-alike key of name (storage/name.h: NFKC_Casefold), computed by
 * the SQL function consort_look_key that db_open registers; NULL for a
 * root or a stored name it cannot read. Not unique: names stored before
 * this check that look alike stay as they are and fsck reports them;
 * storage/tree.c refuses new ones. */
static const char m006_look_keys[] =
	"ALTER TABLE nodes ADD COLUMN look_key TEXT;"
	"UPDATE nodes SET look_key = consort_look_key(name) WHERE parent_id IS NOT NULL;"
	"CREATE INDEX nodes_look ON nodes(parent_id, look_key) WHERE trashed_at IS NULL;";

/* --- directory, news and events (issue 20, storage/directory.h) ---
 * A partner's directory entry; a person's role line and contact roles
 * ("Project coordinator", "Communication", "WP3 lead"); news items
 * (Markdown source, rendered on the way out); events with their
 * instants in UTC and the time zone they were given in; a person's
 * calendar feed secret, stored only as its SHA-256 like every secret. */
static const char m007_directory[] =
	"ALTER TABLE partners ADD COLUMN type TEXT NOT NULL DEFAULT 'other'"
	"  CHECK (type IN ('hospital', 'cancer_centre', 'university', 'public_health',"
	"  'patient_org', 'ministry', 'company', 'other'));"
	"ALTER TABLE partners ADD COLUMN role TEXT NOT NULL DEFAULT 'beneficiary'"
	"  CHECK (role IN ('coordinator', 'beneficiary', 'affiliated', 'associated'));"
	"ALTER TABLE partners ADD COLUMN city TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE partners ADD COLUMN website TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE partners ADD COLUMN description TEXT NOT NULL DEFAULT '';"
	/* Pictures people upload (logos, news images), only as the PNG the
	 * image helper made of them (server/api/imgsan.h), never the upload. */
	"CREATE TABLE images ("
	"  id INTEGER PRIMARY KEY,"
	"  png BLOB NOT NULL,"
	"  width INTEGER NOT NULL,"
	"  height INTEGER NOT NULL,"
	"  created_by INTEGER REFERENCES users(id),"
	"  created_at INTEGER NOT NULL"
	");"
	"ALTER TABLE partners ADD COLUMN logo_image_id INTEGER REFERENCES images(id);"
	"ALTER TABLE users ADD COLUMN role_line TEXT NOT NULL DEFAULT '';"
	"CREATE TABLE contact_roles ("
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  role TEXT NOT NULL COLLATE NOCASE,"
	"  PRIMARY KEY (user_id, role)"
	") WITHOUT ROWID;"
	"CREATE TABLE news ("
	"  id INTEGER PRIMARY KEY,"
	"  title TEXT NOT NULL,"
	"  body TEXT NOT NULL," /* Markdown source */
	"  author_id INTEGER REFERENCES users(id),"
	"  image_id INTEGER REFERENCES images(id),"
	"  created_at INTEGER NOT NULL"
	");"
	"CREATE INDEX news_created ON news(created_at);"
	/* Internal events are seen by readers of their work packages (the
	 * folder's and the linked ones); docs/directory.md. */
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  title TEXT NOT NULL,"
	"  starts_at INTEGER NOT NULL,"
	"  ends_at INTEGER NOT NULL CHECK (ends_at >= starts_at),"
	"  tz TEXT NOT NULL," /* IANA name the times were given in */
	"  place TEXT NOT NULL DEFAULT '',"
	"  online_url TEXT NOT NULL DEFAULT '',"
	"  description TEXT NOT NULL DEFAULT '',"
	"  internal INTEGER NOT NULL DEFAULT 1,"
	"  folder_wp_id INTEGER REFERENCES wps(id),"
	"  folder_path TEXT NOT NULL DEFAULT '',"
	"  created_by INTEGER REFERENCES users(id),"
	"  created_at INTEGER NOT NULL"
	");"
	"CREATE INDEX events_starts ON events(starts_at);"
	"CREATE TABLE event_wps ("
	"  event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,"
	"  wp_id INTEGER NOT NULL REFERENCES wps(id) ON DELETE CASCADE,"
	"  PRIMARY KEY (event_id, wp_id)"
	") WITHOUT ROWID;"
	"CREATE TABLE calendar_feeds ("
	"  user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
	"  secret_hash BLOB NOT NULL UNIQUE,"
	"  created_at INTEGER NOT NULL"
	");";

/* --- OpenID Connect sign-in (storage/oidcstore.h, issue 19) --- */
static const char m008_oidc[] =
	/* Sign-ins in flight: the hash of `state`, what the callback checks
	 * against (nonce, PKCE verifier), and the hash of the cookie that
	 * binds it to the browser that started it. Deleted on first use. */
	"CREATE TABLE oidc_flows ("
	"  state_hash BLOB PRIMARY KEY,"
	"  provider TEXT NOT NULL,"
	"  nonce TEXT NOT NULL,"
	"  verifier TEXT NOT NULL,"
	"  browser_hash BLOB NOT NULL,"
	"  expires_at INTEGER NOT NULL"
	") WITHOUT ROWID;"
	/* A provider's subject (`sub`, unique per issuer) and its account. */
	"CREATE TABLE oidc_links ("
	"  provider TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  created_at INTEGER NOT NULL,"
	"  last_login INTEGER NOT NULL,"
	"  PRIMARY KEY (provider, subject)"
	") WITHOUT ROWID;"
	"CREATE INDEX oidc_links_user ON oidc_links(user_id);"
	/* People a provider vouched for, waiting for a coordinator. */
	"CREATE TABLE oidc_pending ("
	"  id INTEGER PRIMARY KEY,"
	"  provider TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  email TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  partner_hint TEXT,"
	"  org TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  UNIQUE (provider, subject)"
	");"
	/* Sign-ins past the provider that owe the local one-time code. */
	"CREATE TABLE oidc_tickets ("
	"  ticket_hash BLOB PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  provider TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  sid TEXT,"
	"  expires_at INTEGER NOT NULL"
	") WITHOUT ROWID;"
	/* The provider whose MFA (amr/acr) this session's sign-in passed:
	 * it satisfies "second factor required". */
	"ALTER TABLE sessions ADD COLUMN mfa_provider TEXT;"
	/* The provider and its session id (`sid`) of a session begun there:
	 * the provider's front-channel logout names them. */
	"ALTER TABLE sessions ADD COLUMN oidc_provider TEXT;"
	"ALTER TABLE sessions ADD COLUMN oidc_sid TEXT;"
	"CREATE INDEX sessions_oidc ON sessions(oidc_sid) WHERE oidc_sid IS NOT NULL;";

/* Malware scan verdicts per blob (storage/scans.h, docs/scanning.md).
 * Keyed by hash, not by version: a verdict is about the content, and
 * every version of that content shares it. No foreign key: a verdict
 * may outlive its blob (gc) and is harmless then. */
static const char m009_blob_scans[] =
	"CREATE TABLE blob_scans ("
	"  hash TEXT PRIMARY KEY,"
	"  verdict TEXT NOT NULL CHECK (verdict IN ('clean', 'infected', 'unscanned')),"
	"  db_version TEXT NOT NULL DEFAULT ''," /* clamd VERSION at the scan */
	"  signature TEXT NOT NULL DEFAULT '',"  /* infected: its name; unscanned: why */
	"  scanned_at INTEGER NOT NULL"
	") WITHOUT ROWID;";

/* A work package's language (ISO 639-1, NULL: the server's
 * index-language): the indexer's guess for a document that neither
 * declares its language nor is long enough to identify. */
static const char m010_wp_language[] = "ALTER TABLE wps ADD COLUMN language TEXT;";

/* Editing news and events in place (storage/directory.h): when an item
 * was last edited, and an event's iCalendar SEQUENCE, raised at each
 * edit so subscribed calendars replace their copy. */
static const char m011_directory_edits[] = "ALTER TABLE news ADD COLUMN edited_at INTEGER;"
					   "ALTER TABLE events ADD COLUMN edited_at INTEGER;"
					   "ALTER TABLE events ADD COLUMN sequence INTEGER NOT "
					   "NULL DEFAULT 0;";

/* Deliverables, the files around a review (docs/deliverables.md): a
 * reviewer's annotated file and the submitted PDF are documents of the
 * work package (uploaded through the one upload path); these columns link
 * them, with the version and content hash that was attached. A purged
 * file leaves the link NULL and the hash as the record.
 * deliverable_reminders: what the reminder job mailed, one row per step
 * and person, inserted in the transaction that queues the mail, so a
 * step is mailed once across restarts and worker processes. */
static const char m012_deliverable_files[] =
	"ALTER TABLE review_decisions ADD COLUMN"
	"  attachment_node INTEGER REFERENCES nodes(id) ON DELETE SET NULL;"
	"ALTER TABLE review_decisions ADD COLUMN attachment_version INTEGER;"
	"ALTER TABLE review_decisions ADD COLUMN attachment_blob TEXT;"
	"ALTER TABLE deliverables ADD COLUMN"
	"  submitted_node INTEGER REFERENCES nodes(id) ON DELETE SET NULL;"
	"ALTER TABLE deliverables ADD COLUMN submitted_version INTEGER;"
	"ALTER TABLE deliverables ADD COLUMN submitted_blob TEXT;"
	"CREATE TABLE deliverable_reminders ("
	"  step TEXT NOT NULL,"   /* e.g. 'review_due 2025-05-31' */
	"  ref INTEGER NOT NULL," /* the review's or the deliverable's id */
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  sent_at INTEGER NOT NULL,"
	"  PRIMARY KEY (step, ref, user_id)"
	") WITHOUT ROWID;";

/* Share links (issue 16, storage/links.h, docs/links.md): a secret URL
 * that lets someone without an account download a document or a folder,
 * or drop files into a folder. Only the SHA-256 of the 256-bit secret is
 * kept; the optional password is an Argon2id hash like an account's. A
 * link's work package sets who may make which kind (link_policies; no
 * row: links off). */
static const char m013_links[] =
	"CREATE TABLE links ("
	"  id INTEGER PRIMARY KEY,"
	"  secret_hash BLOB NOT NULL UNIQUE,"
	"  kind TEXT NOT NULL CHECK (kind IN ('download', 'drop')),"
	"  wp_id INTEGER NOT NULL REFERENCES wps(id) ON DELETE CASCADE,"
	"  node_id INTEGER NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,"
	"  version INTEGER NOT NULL DEFAULT 0," /* 0: always the latest */
	"  creator_id INTEGER NOT NULL REFERENCES users(id),"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  password_hash TEXT,"
	"  max_uses INTEGER," /* NULL: no limit */
	"  uses INTEGER NOT NULL DEFAULT 0,"
	"  last_used_at INTEGER,"
	"  note TEXT NOT NULL DEFAULT '',"
	"  revoked_at INTEGER,"
	"  revoked_by INTEGER REFERENCES users(id)"
	");"
	"CREATE INDEX links_wp ON links(wp_id);"
	"CREATE INDEX links_creator ON links(creator_id);"
	"CREATE TABLE link_policies ("
	"  wp_id INTEGER PRIMARY KEY REFERENCES wps(id) ON DELETE CASCADE,"
	"  mode TEXT NOT NULL CHECK (mode IN ('off', 'download', 'drop')),"
	"  max_days INTEGER NOT NULL,"
	"  password_required INTEGER NOT NULL DEFAULT 0"
	");";

/* Consortium news and events in digests (issue 15 with issue 20):
 * everyone gets them unless they turn `news` off. */
static const char m014_notify_news[] =
	"ALTER TABLE notify_prefs ADD COLUMN news INTEGER NOT NULL DEFAULT 1;";

/* The person's language for the app (and, later, mail): NULL until the
 * app first tells it (docs/notifications.md "Language"). */
static const char m015_user_language[] = "ALTER TABLE users ADD COLUMN language TEXT;";

/* The small-content tier (storage/smallblob.h): content of at most
 * 64 KiB, stored with the version that references it in one commit.
 * `hash` is the SHA-256 a blob file would be named by. */
static const char m016_small_blobs[] = "CREATE TABLE small_blobs ("
				       "  hash TEXT PRIMARY KEY,"
				       "  content BLOB NOT NULL"
				       ");";

/* Drop links (docs/links.md): a size limit per dropped file (the count
 * limit is max_uses), and the link an upload came through. */
static const char m017_drop_links[] = "ALTER TABLE links ADD COLUMN max_file_size INTEGER;"
				      "ALTER TABLE uploads ADD COLUMN link_id INTEGER"
				      "  REFERENCES links(id) ON DELETE CASCADE;"
				      "CREATE INDEX uploads_link ON uploads(link_id);";

/* The per-user limits count a user's unfinished uploads at every
 * creation (uploads_create). A finished upload keeps its row until it
 * expires, so with an index on user_id alone that count read every row
 * of the day's uploads: hundreds per small file in a burst of them.
 * Here it reads the unfinished rows only, from the index (the cascade
 * from users still finds the rows by user_id). */
static const char m018_upload_open[] =
	"DROP INDEX uploads_user;"
	"CREATE INDEX uploads_user ON uploads(user_id, version, length);";

/* When an upload last moved (its offset recorded; NULL: not since its
 * creation): a drop link's upload left idle stops holding one of the
 * link's files (uploads_link_open). */
static const char m019_upload_touched[] = "ALTER TABLE uploads ADD COLUMN touched_at INTEGER;";

const char *const db_migrations[] = {
	m001_initial,     m002_sudo_scopes, m003_deliverables,    m004_notifications,
	m005_wp_settings, m006_look_keys,   m007_directory,       m008_oidc,
	m009_blob_scans,  m010_wp_language, m011_directory_edits, m012_deliverable_files,
	m013_links,       m014_notify_news, m015_user_language,   m016_small_blobs,
	m017_drop_links,  m018_upload_open, m019_upload_touched,
};

const size_t db_migration_count = sizeof db_migrations / sizeof db_migrations[0];
