import { z } from 'zod';
import { CategorySchema, LayerSchema, RiskSchema, SeveritySchema } from '../model/policy.js';

const AssetTypeSchema = z
  .string()
  .regex(/^[a-z0-9.-]+\.googleapis\.com\/[A-Za-z0-9]+$/, 'not a CAI asset type');

/** A policy file as written in policies/ (design §3). */
export const PolicyFileSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'id must be kebab-case'),
    title: z.string().min(5),
    description: z.string().optional(),
    layer: LayerSchema,
    category: CategorySchema,
    severity: SeveritySchema,
    assetTypes: z.array(AssetTypeSchema).min(1),
    /** CEL over `resource`, `iamPolicy`, `asset`; true means the asset violates the policy. */
    condition: z.string().min(1),
    /**
     * Asset types of the same project (or, for an organization or folder, under it) the condition sees as
     * `related`: CIS checks such as "a log metric with this filter and an alert on it exist" span assets.
     */
    related: z.array(AssetTypeSchema).default([]),
    /** Dotted paths (from the evaluation context) reported as the finding's evidence. */
    evidence: z.array(z.string()).default([]),
    remediation: z.union([
      z.object({ action: z.string().min(3), risk: RiskSchema }).strict(),
      z.object({ recommendation: z.string().min(10) }).strict(),
    ]),
    references: z.record(z.string(), z.array(z.string())).default({}),
    /** public-exposure: the violation opens the resource to the internet (automation.yaml's auto_fix_public_resources). */
    tags: z.array(z.enum(['public-exposure'])).default([]),
    /**
     * How sure a violation is a real problem (default high). Lower confidence raises the fix's risk; a
     * low-confidence finding is never fixed without a human.
     */
    confidence: z.enum(['high', 'medium', 'low']).optional(),
  })
  .strict();
export type PolicyFile = z.infer<typeof PolicyFileSchema>;

/** Table tests beside a policy: `<id>.test.yaml`, asset in (CAI camelCase), verdict out. */
export const PolicyTestFileSchema = z
  .object({
    policy: z.string(),
    cases: z
      .array(
        z
          .object({
            name: z.string(),
            asset: z.record(z.string(), z.unknown()),
            violated: z.boolean(),
            /** The asset's ancestors (project, folders, organization), nearest first, in CAI camelCase. */
            ancestry: z.array(z.record(z.string(), z.unknown())).optional(),
            perimeters: z
              .object({ known: z.boolean(), projects: z.array(z.string()) })
              .strict()
              .optional(),
            /** Assets of the policy's `related` types in the asset's scope, in CAI camelCase. */
            related: z.array(z.record(z.string(), z.unknown())).optional(),
            /** Related types the inventory covers; default: all of the policy's `related` types. */
            relatedKnown: z.array(z.string()).optional(),
            /** Overrides of params.yaml values, camelCase as CEL sees them. */
            params: z.record(z.string(), z.unknown()).optional(),
            /** RFC 3339; default 2026-01-01T00:00:00Z. */
            now: z.string().optional(),
          })
          .strict(),
      )
      .min(2),
  })
  .strict();
export type PolicyTestFile = z.infer<typeof PolicyTestFileSchema>;
