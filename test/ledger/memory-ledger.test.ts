/** The memory ledger passes the ledger contract suite. */
import { createMemoryLedger } from '../../src/ledger/memory.js';
import { describeLedgerContract } from './contract.js';

describeLedgerContract('memory', async () => createMemoryLedger({ strategyId: 'S1' }));
