# The store: Firestore in Native mode. Every collection name carries var.prefix
# (shared/adapters/document-store-firestore.ts), so several deployments can share the database.
locals {
  # Every collection the code uses and what it asks of it (test/deploy checks the keys against the
  # collection constants of shared/engine/*.ts and functions/detect/handle-sweep.ts).
  #
  # Firestore serves single-field filters, single-field orderings and equality-only filter combinations
  # (by merging single-field indexes) without composite indexes; only the queries below marked "composite"
  # need one. The emulator needs none at all, so this list, not the tests, is what keeps production working.
  firestore_collections = {
    "findings"         = "composite: resourceName == AND status == (Repository.resolveFindingsOf, in a transaction); single-field: status ==, severity ==, layer == counts (summary), status == list (sweep, status page), firstSeen >= and resolvedAt >= counts (daily digest)"
    "actions"          = "composite: state, project or policyId == ordered by updatedAt desc, with an updatedAt range (API action list); single-field: state in [...] (sweep), state == counts, updatedAt desc list (status page)"
    "assets"           = "by id only"
    "audit"            = "ordered by seq (Repository.readAuditRecords): the automatic single-field index serves it; Firestore refuses a one-field composite index"
    "meta"             = "by id only (the audit chain head)"
    "outcomes"         = "single-field: state == counts; at range (batched report of automatic actions, daily digest)"
    "dead-letters"     = "by id, listed whole"
    "sweeps"           = "by id only (the sweep report, keyed by sweepId); single-field: finishedAt desc, limit 1 (API status)"
    "approvals"        = "by id (= the action id) in transactions; single-field: status ==, announced ==, decidedAt >= (approval tick, status, lists)"
    "slack-replays"    = "by id (a signature's hash) in transactions; single-field: expiresAt <= (pruned by the approval tick)"
    "notifications"    = "by id only (the automatic-actions watermark, one claim document per daily digest)"
    "circuit-breakers" = "by id (one per action type) in transactions; listed whole (API status)"
    "rate-counters"    = "by id (one per scope and window) in transactions; single-field: windowEnd < (pruned by the sweep)"
    "run-caps"         = "by id (one per sweep and policy) in transactions; single-field: openedAt < (pruned by the sweep)"
    "change-locks"     = "by id (one per resource and action type: the latest action making that change) in transactions"
    "change-authors"   = "by id (one per resource name: who changed it, from the audit log sink) in transactions"
  }

  # Large JSON-text and map fields no query filters or orders on: excluded from single-field indexing to
  # save index writes. test/deploy checks none of them is a queried field.
  unindexed_fields = [
    "approvals/votes",
    "findings/evidence",
    "actions/plan",
    "actions/beforeState",
    "actions/afterState",
    "assets/parts",
    "audit/before",
    "audit/after",
    "dead-letters/data",
  ]
}

resource "google_firestore_database" "default" {
  project     = var.project_id
  name        = "(default)"
  location_id = coalesce(var.firestore_location, var.region)
  type        = "FIRESTORE_NATIVE"

  # Server-SDK transactions with locks: every Warden transaction reads and writes the audit head.
  concurrency_mode                  = "PESSIMISTIC"
  app_engine_integration_mode       = "DISABLED"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"
  # `terraform destroy` leaves the database (and the audit chain) in place.
  deletion_policy = "ABANDON"

  depends_on = [google_project_service.enabled]
}

# Repository.resolveFindingsOf: where resourceName == X and status == 'open'.
resource "google_firestore_index" "findings_resource_status" {
  project     = var.project_id
  database    = google_firestore_database.default.name
  collection  = "${var.prefix}findings"
  query_scope = "COLLECTION"

  fields {
    field_path = "resourceName"
    order      = "ASCENDING"
  }

  fields {
    field_path = "status"
    order      = "ASCENDING"
  }
}

# Actions in one state, newest first (the API's action list filtered by state; the dashboard's history).
resource "google_firestore_index" "actions_state_updated" {
  project     = var.project_id
  database    = google_firestore_database.default.name
  collection  = "${var.prefix}actions"
  query_scope = "COLLECTION"

  fields {
    field_path = "state"
    order      = "ASCENDING"
  }

  fields {
    field_path = "updatedAt"
    order      = "DESCENDING"
  }
}

resource "google_firestore_field" "unindexed" {
  for_each = toset(local.unindexed_fields)

  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = "${var.prefix}${split("/", each.key)[0]}"
  field      = split("/", each.key)[1]

  # An empty index_config disables every single-field index of the field.
  index_config {}
}

# The API's action list filtered by project or by policy, newest first (with a state filter too, Firestore
# merges these with actions_state_updated).
resource "google_firestore_index" "actions_project_updated" {
  project     = var.project_id
  database    = google_firestore_database.default.name
  collection  = "${var.prefix}actions"
  query_scope = "COLLECTION"

  fields {
    field_path = "project"
    order      = "ASCENDING"
  }

  fields {
    field_path = "updatedAt"
    order      = "DESCENDING"
  }
}

resource "google_firestore_index" "actions_policy_updated" {
  project     = var.project_id
  database    = google_firestore_database.default.name
  collection  = "${var.prefix}actions"
  query_scope = "COLLECTION"

  fields {
    field_path = "policyId"
    order      = "ASCENDING"
  }

  fields {
    field_path = "updatedAt"
    order      = "DESCENDING"
  }
}
