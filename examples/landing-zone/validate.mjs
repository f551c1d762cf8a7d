#!/usr/bin/env node
// Validates the example landing zone export (resources.ndjson, iam-policies.ndjson) and the README's
// references to it. Plain Node ESM, no dependencies.
//
//   node examples/landing-zone/validate.mjs
//
// Checks: every line is a JSON object of the export shape; asset types are well formed; names are unique
// per file; every IAM policy belongs to an exported resource of the same type and ancestors; ancestors
// agree with the folder/project hierarchy and with resource.parent; project ids in names match the
// project numbers in ancestors; labels follow GCP label rules; >= 80 resources of >= 10 asset types; and
// every `//…` CAI name quoted in README.md exists in the export.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const errors = [];
const fail = (msg) => errors.push(msg);

const ASSET_TYPE = /^[a-z0-9.-]+\.googleapis\.com\/[A-Za-z0-9]+$/;
const CAI_NAME = /^\/\/[a-z0-9.-]+\.googleapis\.com\/\S+$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const ANCESTOR = /^(projects|folders|organizations)\/\d+$/;
const LABEL_KEY = /^[a-z][a-z0-9_-]{0,62}$/;
const LABEL_VALUE = /^[a-z0-9_-]{0,63}$/;
const MEMBER =
  /^(allUsers|allAuthenticatedUsers|(user|group|serviceAccount|domain|projectOwner|projectEditor|projectViewer|principal|principalSet):.+)$/;

function readNdjson(file, required) {
  const text = readFileSync(join(HERE, file), 'utf8');
  if (!text.endsWith('\n')) fail(`${file}: does not end with a newline`);
  const records = [];
  text
    .split('\n')
    .slice(0, -1)
    .forEach((line, i) => {
      const where = `${file}:${i + 1}`;
      let r;
      try {
        r = JSON.parse(line);
      } catch (e) {
        fail(`${where}: not JSON (${e.message})`);
        return;
      }
      if (!r || typeof r !== 'object' || Array.isArray(r)) return fail(`${where}: not a JSON object`);
      for (const k of required) if (!(k in r)) fail(`${where}: missing "${k}"`);
      for (const k of Object.keys(r))
        if (/[A-Z]/.test(k)) fail(`${where}: top-level key "${k}" is not snake_case`);
      if (!ASSET_TYPE.test(r.asset_type ?? '')) fail(`${where}: bad asset_type ${r.asset_type}`);
      if (!CAI_NAME.test(r.name ?? '')) fail(`${where}: bad CAI name ${r.name}`);
      if (!RFC3339.test(r.update_time ?? '')) fail(`${where}: bad update_time ${r.update_time}`);
      if (!Array.isArray(r.ancestors) || r.ancestors.length === 0)
        fail(`${where}: ancestors missing or empty`);
      else {
        for (const a of r.ancestors) if (!ANCESTOR.test(a)) fail(`${where}: bad ancestor ${a}`);
        if (!r.ancestors.at(-1).startsWith('organizations/'))
          fail(`${where}: ancestors do not end at the org`);
      }
      records.push({ ...r, where });
    });
  const seen = new Map();
  for (const r of records) {
    if (seen.has(r.name)) fail(`${r.where}: duplicate name ${r.name} (first at ${seen.get(r.name)})`);
    else seen.set(r.name, r.where);
  }
  return records;
}

const resources = readNdjson('resources.ndjson', [
  'name',
  'asset_type',
  'resource',
  'ancestors',
  'update_time',
]);
const policies = readNdjson('iam-policies.ndjson', [
  'name',
  'asset_type',
  'iam_policy',
  'ancestors',
  'update_time',
]);
const byName = new Map(resources.map((r) => [r.name, r]));

// --- resource envelope and data ------------------------------------------------------------------------
for (const r of resources) {
  const res = r.resource ?? {};
  for (const k of ['version', 'discovery_document_uri', 'discovery_name', 'data']) {
    if (!(k in res)) fail(`${r.where}: resource.${k} missing`);
  }
  if (r.asset_type !== 'cloudresourcemanager.googleapis.com/Organization' && !res.parent) {
    fail(`${r.where}: resource.parent missing`);
  }
  if (!res.data || typeof res.data !== 'object' || Array.isArray(res.data))
    fail(`${r.where}: data not an object`);
  if (
    r.asset_type.split('/')[1] !== res.discovery_name &&
    !(r.asset_type === 'sqladmin.googleapis.com/Instance')
  ) {
    fail(`${r.where}: discovery_name ${res.discovery_name} does not match ${r.asset_type}`);
  }
  const labelSets = [res.data?.labels, res.data?.settings?.userLabels, res.data?.resourceLabels].filter(
    Boolean,
  );
  for (const labels of labelSets) {
    for (const [k, v] of Object.entries(labels)) {
      if (!LABEL_KEY.test(k) || !LABEL_VALUE.test(v))
        fail(`${r.where}: label ${k}=${v} breaks GCP label rules`);
    }
  }
}

// --- hierarchy -----------------------------------------------------------------------------------------
const HIERARCHY = new Set([
  'cloudresourcemanager.googleapis.com/Organization',
  'cloudresourcemanager.googleapis.com/Folder',
  'cloudresourcemanager.googleapis.com/Project',
]);
const projectsById = new Map();
const projectsByNumber = new Map();
for (const r of resources) {
  if (r.asset_type !== 'cloudresourcemanager.googleapis.com/Project') continue;
  const d = r.resource.data;
  if (r.name !== `//cloudresourcemanager.googleapis.com/projects/${d.projectNumber}`) {
    fail(`${r.where}: project name does not use projectNumber ${d.projectNumber}`);
  }
  projectsById.set(d.projectId, r);
  projectsByNumber.set(String(d.projectNumber), r);
  if (d.lifecycleState !== 'ACTIVE') fail(`${r.where}: lifecycleState ${d.lifecycleState}`);
  const expectedParent = `//cloudresourcemanager.googleapis.com/${d.parent.type}s/${d.parent.id}`;
  if (r.resource.parent !== expectedParent) fail(`${r.where}: data.parent and resource.parent disagree`);
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
for (const r of resources) {
  const self = r.name.replace('//cloudresourcemanager.googleapis.com/', '');
  if (r.asset_type === 'cloudresourcemanager.googleapis.com/Organization') {
    if (!same(r.ancestors, [self])) fail(`${r.where}: organization ancestors must be [${self}]`);
    continue;
  }
  const parent = byName.get(r.resource.parent);
  if (!parent) {
    fail(`${r.where}: resource.parent ${r.resource.parent} is not in the export`);
    continue;
  }
  const expected = HIERARCHY.has(r.asset_type) ? [self, ...parent.ancestors] : parent.ancestors;
  if (!same(r.ancestors, expected)) {
    fail(`${r.where}: ancestors ${JSON.stringify(r.ancestors)} != ${JSON.stringify(expected)} (from parent)`);
  }
  // A project id in the name must be the project of the nearest ancestor.
  const m = /\/projects\/([^/]+)/.exec(r.name);
  if (m && !/^\d+$/.test(m[1]) && !HIERARCHY.has(r.asset_type)) {
    const p = projectsById.get(m[1]);
    if (!p) fail(`${r.where}: project id ${m[1]} in the name is not an exported project`);
    else if (r.ancestors[0] !== `projects/${p.resource.data.projectNumber}`) {
      fail(`${r.where}: name says project ${m[1]} but ancestors[0] is ${r.ancestors[0]}`);
    }
  }
  if (r.asset_type === 'storage.googleapis.com/Bucket') {
    if (r.ancestors[0] !== `projects/${r.resource.data.projectNumber}`)
      fail(`${r.where}: bucket projectNumber mismatch`);
    if (r.name !== `//storage.googleapis.com/${r.resource.data.name}`)
      fail(`${r.where}: bucket name mismatch`);
  }
}

// --- IAM policies --------------------------------------------------------------------------------------
for (const p of policies) {
  const r = byName.get(p.name);
  if (!r) {
    fail(`${p.where}: IAM policy for ${p.name}, which is not in resources.ndjson`);
    continue;
  }
  if (r.asset_type !== p.asset_type)
    fail(`${p.where}: asset_type ${p.asset_type} != resource's ${r.asset_type}`);
  if (!same(r.ancestors, p.ancestors)) fail(`${p.where}: ancestors differ from the resource's`);
  const pol = p.iam_policy;
  if (![1, 3].includes(pol.version)) fail(`${p.where}: iam_policy.version ${pol.version}`);
  if (!/^[A-Za-z0-9+/]{11}=$/.test(pol.etag ?? '')) fail(`${p.where}: iam_policy.etag ${pol.etag}`);
  if (!Array.isArray(pol.bindings) || pol.bindings.length === 0) fail(`${p.where}: no bindings`);
  for (const b of pol.bindings ?? []) {
    if (!/^(roles\/|organizations\/\d+\/roles\/|projects\/[^/]+\/roles\/)[A-Za-z0-9_.]+$/.test(b.role)) {
      fail(`${p.where}: bad role ${b.role}`);
    }
    for (const m of b.members ?? []) if (!MEMBER.test(m)) fail(`${p.where}: bad member ${m}`);
    if (b.condition && pol.version !== 3) fail(`${p.where}: conditional binding needs policy version 3`);
  }
  for (const c of pol.audit_configs ?? []) {
    if (!c.service) fail(`${p.where}: audit config without service`);
    for (const l of c.audit_log_configs ?? []) {
      if (![1, 2, 3].includes(l.log_type)) fail(`${p.where}: log_type ${l.log_type} is not 1|2|3`);
    }
  }
}

// --- size -----------------------------------------------------------------------------------------------
const counts = {};
for (const r of resources) counts[r.asset_type] = (counts[r.asset_type] ?? 0) + 1;
if (resources.length < 80) fail(`only ${resources.length} resources (want >= 80)`);
if (Object.keys(counts).length < 10) fail(`only ${Object.keys(counts).length} asset types (want >= 10)`);

// --- README references ----------------------------------------------------------------------------------
const readme = readFileSync(join(HERE, 'README.md'), 'utf8');
// Skip name patterns such as //storage.googleapis.com/BUCKET (an upper-case placeholder word).
const quoted = [...readme.matchAll(/`(\/\/[a-z0-9.-]+\.googleapis\.com\/[^`\s]+)`/g)]
  .map((m) => m[1])
  .filter((n) => !/[A-Z][A-Z_]{3,}/.test(n));
if (quoted.length === 0) fail('README.md quotes no CAI names');
for (const n of new Set(quoted)) if (!byName.has(n)) fail(`README.md names ${n}, which is not in the export`);

// --- report ---------------------------------------------------------------------------------------------
if (errors.length) {
  for (const e of errors) process.stderr.write(`✗ ${e}\n`);
  process.stderr.write(`${errors.length} problem(s)\n`);
  process.exit(1);
}
const width = Math.max(...Object.keys(counts).map((t) => t.length));
for (const [t, n] of Object.entries(counts).sort()) process.stdout.write(`${t.padEnd(width)}  ${n}\n`);
process.stdout.write(
  `ok: ${resources.length} resources, ${Object.keys(counts).length} asset types, ${policies.length} IAM policies, ` +
    `${new Set(quoted).size} README references\n`,
);
