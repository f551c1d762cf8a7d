# Least privilege, per function (what each may do is summarised in README.md):
#
#   detect        Firestore; publish findings.                       (the feed message carries the asset)
#   detect-authors  Firestore.                                      (the log sink's message names who changed what)
#   detect-sweep  Firestore; publish findings, actions; read Cloud Asset Inventory across the organization.
#   assess-risk   Firestore; publish actions, approval-requests.
#   execute       Firestore; publish outcomes; the custom role below, nothing else, on the organization
#                 (or on var.execute_folders).
#   rollback      Firestore; publish outcomes, findings; the same custom role, where execute has it (undo
#                 makes the same calls as the fix).
#   report        Firestore; read the Slack bot token when one is configured.
#   request-approval  Firestore; publish actions, outcomes; read the Slack bot token.
#   api           Firestore; publish actions, outcomes, sweeps, rollbacks (never a role on resources: rollbacks
#                 go to the rollback function); read the Slack bot token. Callable by
#                 var.api_invokers only (functions.tf), and it checks their ID tokens itself.
#   slack         Firestore; publish approval-requests; read the Slack bot token and signing secret. Public
#                 (Slack has no Google identity); every request is signature-checked in code.
#
# roles/datastore.user is project-wide: Firestore IAM cannot be narrowed to a collection.

resource "google_project_iam_member" "datastore_user" {
  for_each = local.all_functions

  project = var.project_id
  role    = "roles/datastore.user"
  member  = "serviceAccount:${google_service_account.function[each.key].email}"
}

locals {
  # One grant per (function, topic it publishes to).
  publish_grants = merge([
    for fn, f in local.all_functions : {
      for topic in f.publishes : "${fn}/${topic}" => { function = fn, topic = topic }
    }
  ]...)
}

resource "google_pubsub_topic_iam_member" "publisher" {
  for_each = local.publish_grants

  project = var.project_id
  topic   = google_pubsub_topic.bus[each.value.topic].name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_service_account.function[each.value.function].email}"
}

# The sweep lists every asset of the organization (listAssets, RESOURCE and IAM_POLICY).
resource "google_organization_iam_member" "sweep_asset_viewer" {
  org_id = var.org_id
  role   = "roles/cloudasset.viewer"
  member = "serviceAccount:${google_service_account.function["detect-sweep"].email}"
}

# Exactly the calls the remediations make (shared/actions, policies/*.yaml), kept in step with the list in
# test/deploy/terraform.test.ts. compute.firewalls.patch checks compute.networks.updatePolicy on the rule's
# network besides compute.firewalls.update; an operation's get and wait both check its scope's
# *Operations.get.
resource "google_organization_iam_custom_role" "execute" {
  org_id      = var.org_id
  role_id     = "${replace(var.prefix, "-", "_")}execute"
  title       = "Warden execute"
  description = "Read, fix and restore what the shipped remediations touch (buckets, firewalls, VMs, disks, compute projects, subnetworks, backend services, SSL policies, service account keys); nothing else."
  stage       = "GA"

  permissions = [
    "storage.buckets.get",
    "storage.buckets.update",
    "storage.buckets.getIamPolicy",
    "storage.buckets.setIamPolicy",
    "compute.firewalls.get",
    "compute.firewalls.update",
    "compute.networks.updatePolicy",
    "compute.globalOperations.get",
    "compute.instances.get",
    "compute.instances.setMetadata",
    "compute.instances.setLabels",
    "compute.instances.setDeletionProtection",
    "compute.disks.get",
    "compute.disks.setLabels",
    "compute.projects.get",
    "compute.projects.setCommonInstanceMetadata",
    "compute.zoneOperations.get",
    "compute.regionOperations.get",
    "compute.subnetworks.get",
    "compute.subnetworks.update",
    "compute.subnetworks.setPrivateIpGoogleAccess",
    "compute.backendServices.get",
    "compute.backendServices.update",
    "compute.regionBackendServices.get",
    "compute.regionBackendServices.update",
    "compute.sslPolicies.get",
    "compute.sslPolicies.update",
    "compute.regionSslPolicies.get",
    "compute.regionSslPolicies.update",
    "compute.disks.addResourcePolicies",
    "compute.disks.removeResourcePolicies",
    "compute.resourcePolicies.get",
    "compute.resourcePolicies.use",
    "cloudsql.instances.get",
    "cloudsql.instances.update",
    "bigquery.datasets.get",
    "bigquery.datasets.getIamPolicy",
    "bigquery.datasets.update",
    "bigquery.datasets.setIamPolicy",
    "resourcemanager.projects.get",
    "resourcemanager.projects.update",
    "resourcemanager.projects.getIamPolicy",
    "resourcemanager.projects.setIamPolicy",
    "resourcemanager.folders.getIamPolicy",
    "resourcemanager.folders.setIamPolicy",
    "resourcemanager.organizations.getIamPolicy",
    "resourcemanager.organizations.setIamPolicy",
    "cloudkms.cryptoKeys.get",
    "cloudkms.cryptoKeys.update",
    "cloudkms.cryptoKeys.getIamPolicy",
    "cloudkms.keyRings.getIamPolicy",
    "cloudkms.cryptoKeys.setIamPolicy",
    "cloudkms.keyRings.setIamPolicy",
    "secretmanager.secrets.getIamPolicy",
    "secretmanager.secrets.setIamPolicy",
    "container.clusters.get",
    "container.clusters.update",
    "container.operations.get",
    "dns.managedZones.get",
    "dns.managedZones.update",
    "dns.managedZoneOperations.get",
    "dns.policies.get",
    "dns.policies.update",
    "serviceusage.services.get",
    "serviceusage.services.enable",
    "serviceusage.services.disable",
    "serviceusage.operations.get",
    "iam.serviceAccountKeys.get",
    "iam.serviceAccountKeys.disable",
    "iam.serviceAccountKeys.enable",
  ]
}

# The functions that change resources: execute (fixes, automatic rollbacks) and rollback (on-demand
# rollbacks the API hands on; the API's own identity changes nothing).
locals {
  resource_changers = toset(["execute", "rollback"])
}

resource "google_organization_iam_member" "execute" {
  for_each = length(var.execute_folders) == 0 ? local.resource_changers : toset([])

  org_id = var.org_id
  role   = google_organization_iam_custom_role.execute.name
  member = "serviceAccount:${google_service_account.function[each.key].email}"
}

resource "google_folder_iam_member" "execute" {
  for_each = {
    for pair in setproduct(var.execute_folders, local.resource_changers) :
    "${pair[0]}/${pair[1]}" => { folder = pair[0], function = pair[1] }
  }

  folder = each.value.folder
  role   = google_organization_iam_custom_role.execute.name
  member = "serviceAccount:${google_service_account.function[each.value.function].email}"
}

# Secrets a function reads as environment variables: the Slack bot token, and the signing secret (slack only).
locals {
  secret_grants = merge([
    for fn, f in local.all_functions : {
      for key, secret in f.secrets : "${fn}/${key}" => { function = fn, secret = secret } if secret != null
    }
  ]...)
}

resource "google_secret_manager_secret_iam_member" "function_secrets" {
  for_each = local.secret_grants

  project   = var.project_id
  secret_id = each.value.secret
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.function[each.value.function].email}"
}

# --- The build identity -------------------------------------------------------------------------------
# Reads the uploaded source, writes the image to Artifact Registry, writes build logs.
resource "google_project_iam_member" "build" {
  for_each = toset([
    "roles/logging.logWriter",
    "roles/artifactregistry.writer",
    "roles/storage.objectViewer",
  ])

  project = var.project_id
  role    = each.key
  member  = "serviceAccount:${google_service_account.build.email}"
}
