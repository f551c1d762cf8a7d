#!/usr/bin/env node
// The CLI runs the TypeScript sources through tsx, so `npx warden` needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('../shared/cli/main.ts');
