import { z } from 'zod';

/**
 * An IAM binding as recorded in before- and after-states, by the generic IAM edits and by the bucket edit
 * alike: a policy written back from a state must carry its conditions exactly, or setIamPolicy would turn a
 * conditional grant into an unconditional one.
 */
export const IamConditionSchema = z.object({
  expression: z.string(),
  title: z.string().optional(),
  description: z.string().optional(),
});

export const IamBindingSchema = z.object({
  role: z.string(),
  members: z.array(z.string()),
  condition: IamConditionSchema.optional(),
});
