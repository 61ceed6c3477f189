/** Writes docs/state-machine.md from the machine definition (`npm run docs:machine`). */
import { writeFileSync } from 'node:fs';
import { renderStateMachineDoc } from '../src/docs/state-machine-doc.js';

writeFileSync(new URL('../docs/state-machine.md', import.meta.url), renderStateMachineDoc());
console.log('docs/state-machine.md written');
