variable "project_id" {
  description = "The project Warden runs in: its functions, topics, Firestore database and service accounts."
  type        = string
}

variable "region" {
  description = "Region of the functions, the Scheduler job and (unless firestore_location is set) Firestore."
  type        = string
  default     = "europe-west1"
}

variable "org_id" {
  description = "Numeric id of the organization Warden watches and remediates (feeds, sweep scope, custom role)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]+$", var.org_id))
    error_message = "org_id is the numeric organization id, e.g. 123456789012 (not organizations/…)."
  }
}

variable "prefix" {
  description = "Prefix of every topic, subscription, Firestore collection, function, service account and feed id; the functions read the same value from WARDEN_PREFIX."
  type        = string
  default     = "warden-"

  validation {
    # Service account ids are at most 30 characters: prefix + "fn-request-approval" (19) must fit.
    condition     = can(regex("^[a-z][a-z0-9-]{0,10}$", var.prefix))
    error_message = "prefix must start with a lowercase letter, use only [a-z0-9-] and be at most 11 characters."
  }
}

variable "source_bucket" {
  description = "Bucket holding the functions' source zip (cloudbuild.yaml uploads it; substitution _SOURCE_BUCKET)."
  type        = string
}

variable "source_object" {
  description = "Object name of the source zip. A new name per build makes every function rebuild and redeploy."
  type        = string
}

variable "firestore_location" {
  description = "Firestore location (e.g. eur3, nam5, europe-west1). Defaults to var.region. Cannot change after creation."
  type        = string
  default     = null
}

variable "watched_asset_types" {
  description = <<-EOT
    Asset types the Cloud Asset feeds send to detect: shared/engine/asset-scope.ts trackedAssetTypes(), i.e.
    every assetTypes entry of policies/, the types policies read as `related`, and the resource hierarchy. detect
    dead-letters a type no policy handles, so a wider list only costs; a narrower one misses changes until
    the next sweep. test/deploy checks this default against the code and the policies.
  EOT
  type        = list(string)
  default = [
    "accesscontextmanager.googleapis.com/ServicePerimeter",
    "apikeys.googleapis.com/Key",
    "bigquery.googleapis.com/Dataset",
    "bigquery.googleapis.com/Table",
    "cloudkms.googleapis.com/CryptoKey",
    "cloudkms.googleapis.com/KeyRing",
    "cloudresourcemanager.googleapis.com/Folder",
    "cloudresourcemanager.googleapis.com/Organization",
    "cloudresourcemanager.googleapis.com/Project",
    "compute.googleapis.com/BackendService",
    "compute.googleapis.com/Disk",
    "compute.googleapis.com/Firewall",
    "compute.googleapis.com/FirewallPolicy",
    "compute.googleapis.com/Instance",
    "compute.googleapis.com/Network",
    "compute.googleapis.com/NetworkFirewallPolicy",
    "compute.googleapis.com/Project",
    "compute.googleapis.com/RegionBackendService",
    "compute.googleapis.com/RegionNetworkFirewallPolicy",
    "compute.googleapis.com/RegionTargetHttpsProxy",
    "compute.googleapis.com/SslPolicy",
    "compute.googleapis.com/Subnetwork",
    "compute.googleapis.com/TargetHttpsProxy",
    "compute.googleapis.com/TargetSslProxy",
    "container.googleapis.com/Cluster",
    "dataproc.googleapis.com/Cluster",
    "dns.googleapis.com/ManagedZone",
    "dns.googleapis.com/Policy",
    "essentialcontacts.googleapis.com/Contact",
    "iam.googleapis.com/ServiceAccountKey",
    "logging.googleapis.com/LogMetric",
    "logging.googleapis.com/LogSink",
    "monitoring.googleapis.com/AlertPolicy",
    "secretmanager.googleapis.com/Secret",
    "serviceusage.googleapis.com/Service",
    "sqladmin.googleapis.com/Instance",
    "storage.googleapis.com/Bucket",

  ]
}

variable "sweep_schedule" {
  description = "Cron schedule of the full sweep (the safety net for lost or late feed messages)."
  type        = string
  default     = "*/30 * * * *"
}

variable "sweep_time_zone" {
  description = "Time zone the sweep schedule is read in."
  type        = string
  default     = "Etc/UTC"
}

variable "dry_run" {
  description = "WARDEN_DRY_RUN: decide and plan everything, change nothing. On by default for a first deployment; it can only make policies/automation.yaml safer, never less safe."
  type        = bool
  default     = true
}

variable "log_level" {
  description = "LOG_LEVEL of the functions' JSON logs."
  type        = string
  default     = "info"
}

variable "policies_dir" {
  description = "WARDEN_POLICIES_DIR inside the deployed source. null: the policies/ folder shipped in the zip (found next to package.json)."
  type        = string
  default     = null
}

variable "execute_folders" {
  description = "Folders (folders/NNN) the execute function may change. Empty: the whole organization. The sweep still lists the whole organization."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for f in var.execute_folders : can(regex("^folders/[0-9]+$", f))])
    error_message = "execute_folders entries look like folders/123456789."
  }
}

variable "slack_bot_token_secret_id" {
  description = "Secret Manager secret id (in project_id) holding the Slack bot token (xoxb-…), exposed as SLACK_BOT_TOKEN to request-approval (requests, updates, digests), slack (reason dialogs) and api (message updates) and report. Null: approvals are decided through the API only."
  type        = string
  default     = null
}

variable "slack_signing_secret_secret_id" {
  description = "Secret Manager secret id of the Slack app's signing secret, exposed as SLACK_SIGNING_SECRET to the slack function only. Null: the Slack endpoint refuses every request."
  type        = string
  default     = null
}

variable "api_invokers" {
  description = "Members allowed to call the automation API (roles/run.invoker on it), e.g. group:platform@example.com, serviceAccount:ci@p.iam.gserviceaccount.com. What each may see and approve is then policies/approvals.yaml's."
  type        = list(string)
  default     = []
}

variable "api_audiences" {
  description = "ID token audiences the API accepts besides its cloudfunctions.net URL (e.g. its run.app URL once known)."
  type        = list(string)
  default     = []
}

variable "api_ingress" {
  description = "Ingress of the automation API: ALLOW_ALL (IAM and ID tokens guard it) or ALLOW_INTERNAL_AND_GCLB behind a load balancer."
  type        = string
  default     = "ALLOW_ALL"

  validation {
    condition     = contains(["ALLOW_ALL", "ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB"], var.api_ingress)
    error_message = "api_ingress is ALLOW_ALL, ALLOW_INTERNAL_ONLY or ALLOW_INTERNAL_AND_GCLB."
  }
}

variable "approval_tick_schedule" {
  description = "Cron schedule of the approval tick: expiry (fail closed), lost requests made, Slack messages brought up to date, the batched report of automatic actions."
  type        = string
  default     = "*/5 * * * *"
}

variable "digest_schedule" {
  description = "Cron schedule of the daily Slack digest (findings opened and closed, actions by outcome, savings, pending approvals), in sweep_time_zone."
  type        = string
  default     = "0 8 * * *"
}
