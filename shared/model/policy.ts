import { z } from 'zod';

export const LAYERS = ['organization', 'identity', 'network', 'data', 'operations'] as const;
export const CATEGORIES = ['compliance', 'cost', 'security'] as const;
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export const RISKS = ['low', 'medium', 'high'] as const;

export const LayerSchema = z.enum(LAYERS);
export const CategorySchema = z.enum(CATEGORIES);
export const SeveritySchema = z.enum(SEVERITIES);
export const RiskSchema = z.enum(RISKS);
export type Layer = z.infer<typeof LayerSchema>;
export type Category = z.infer<typeof CategorySchema>;
export type Severity = z.infer<typeof SeveritySchema>;
export type Risk = z.infer<typeof RiskSchema>;

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}
export function riskRank(r: Risk): number {
  return RISKS.indexOf(r);
}
