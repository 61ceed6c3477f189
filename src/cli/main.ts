#!/usr/bin/env node
/**
 * The `execution-handler` command line.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEMO_FAULTS, DemoUsageError, runDemo } from './demo.js';
import { printHistory } from './history.js';
import { givenToken, INSPECTOR_TOKEN_ENV, runInspect } from './inspect.js';
import { InspectorOptionsError } from '../inspector/server.js';

const integer = (name: string, min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
  return n;
};

const rate = (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new InvalidArgumentError('a rate must be a number from 0 to 1 (0.05 = 5%)');
  return n;
};

// `execution-handler history file | head`: a closed pipe is the reader being done, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const program = new Command()
  .name('execution-handler')
  .description(
    'Places and tracks trading orders: every order an XState actor, every change in a ledger, no fill lost or counted twice.',
  )
  .showHelpAfterError('(add --help for usage)');

program
  .command('demo')
  .description(
    'Run a realistic trading session against the embedded simulated venue, on virtual time: directives over ' +
      'four symbols with market, limit and stop-limit orders, partial fills, rejections, cancels and venue ' +
      'faults. Ends with a summary and an audit of the ledger against the venue (exit code 1 if it finds a problem).',
  )
  .addOption(
    new Option('-n, --orders <count>', 'orders to place').default(1000).argParser(integer('--orders', 1, 1_000_000)),
  )
  .addOption(
    new Option('-s, --seed <number>', 'seed: the same seed replays the same session')
      .default(1)
      .argParser(integer('--seed', 0, 2 ** 31)),
  )
  .addOption(
    new Option('-l, --ledger <file>', 'SQLite ledger file to write (replaced unless --resume)').default(
      'execution-handler-demo.db',
    ),
  )
  .addOption(new Option('--memory', 'keep the ledger in memory instead of a file'))
  .addOption(
    new Option(
      '--resume',
      'continue the session in --ledger: recover its open orders from the ledger, reconcile, finish',
    ),
  )
  .addOption(new Option('--no-faults', 'a venue that never misbehaves'))
  .addOption(new Option('--drop <rate>', 'replies lost on the wire').default(DEMO_FAULTS.dropRate).argParser(rate))
  .addOption(
    new Option('--duplicate <rate>', 'replies delivered twice').default(DEMO_FAULTS.duplicateRate).argParser(rate),
  )
  .addOption(
    new Option('--reorder <rate>', 'replies overtaken by later ones').default(DEMO_FAULTS.reorderRate).argParser(rate),
  )
  .addOption(new Option('--delay <rate>', 'replies held back up to 5 s').default(DEMO_FAULTS.delayRate).argParser(rate))
  .addOption(new Option('--lost-ack <rate>', 'acknowledgements lost').default(DEMO_FAULTS.lostAckRate).argParser(rate))
  .addOption(
    new Option('--place-error <rate>', 'placements failing with a network error')
      .default(DEMO_FAULTS.placeErrorRate)
      .argParser(rate),
  )
  .addOption(
    new Option('--query-error <rate>', 'status queries failing').default(DEMO_FAULTS.queryErrorRate).argParser(rate),
  )
  .addOption(new Option('--no-progress', 'no progress bar'))
  .addOption(
    new Option(
      '--venue <name>',
      "simulated: the embedded venue on virtual time; binance-local: the ccxt connector against a local server speaking Binance spot's wire format, in real time",
    )
      .choices(['simulated', 'binance-local'])
      .default('simulated'),
  )
  .addOption(
    new Option(
      '--inspect',
      'serve the state inspector (a web page on 127.0.0.1) while the demo runs and after, until Ctrl-C; paces the session to real time',
    ),
  )
  .addOption(
    new Option(
      '--pace <ms>',
      'wall milliseconds per 50 ms of virtual time (default 0, or 50 with --inspect)',
    ).argParser(integer('--pace', 0, 10_000)),
  )
  .addOption(
    new Option('--port <port>', 'inspector port (with --inspect)')
      .default(4600)
      .argParser(integer('--port', 0, 65_535)),
  )
  .addHelpText(
    'after',
    '\nExamples:\n  execution-handler demo                       1,000 orders with the default faults\n' +
      '  execution-handler demo -n 200 --seed 7       a short session, another seed\n' +
      '  execution-handler demo --no-faults           a well-behaved venue\n' +
      '  execution-handler demo --drop 0.2 --duplicate 0.5   a very bad day\n' +
      '  execution-handler demo --resume              continue a session stopped with Ctrl-C (or killed)\n' +
      '  execution-handler demo --inspect             watch the orders live at http://127.0.0.1:4600/\n' +
      '  execution-handler demo --venue binance-local -n 200   through ccxt, against a local Binance-format server\n',
  )
  .action(async (o: Record<string, unknown>) => {
    const faults =
      o.faults === false
        ? {}
        : {
            ...DEMO_FAULTS,
            dropRate: o.drop as number,
            duplicateRate: o.duplicate as number,
            reorderRate: o.reorder as number,
            delayRate: o.delay as number,
            lostAckRate: o.lostAck as number,
            placeErrorRate: o.placeError as number,
            queryErrorRate: o.queryError as number,
          };
    try {
      // ccxt is large: loaded only when asked for.
      const run = o.venue === 'binance-local' ? (await import('./demo-binance-local.js')).runBinanceLocalDemo : runDemo;
      if (o.venue === 'binance-local' && (o.resume === true || o.memory === true))
        throw new DemoUsageError('--venue binance-local writes a fresh SQLite ledger: no --resume or --memory');
      const problems = await run({
        orders: o.orders as number,
        seed: o.seed as number,
        faults,
        progress: o.progress !== false && process.stderr.isTTY === true,
        ledgerPath: o.memory === true ? undefined : (o.ledger as string),
        resume: o.resume === true,
        out: process.stdout,
        ...(o.inspect === true
          ? { inspect: { port: o.port as number }, paceMs: (o.pace as number | undefined) ?? 50 }
          : { paceMs: (o.pace as number | undefined) ?? 0 }),
      });
      process.exitCode = problems === 0 ? 0 : 1;
    } catch (err) {
      if (!(err instanceof DemoUsageError || err instanceof InspectorOptionsError || isAddressInUse(err))) throw err;
      process.stderr.write(`error: ${(err as Error).message}\n`);
      process.exitCode = 2;
    }
  });

program
  .command('history')
  .description(
    'Show what a SQLite ledger holds: every order, or one order with its transitions, fills, causality and anomalies.',
  )
  .argument('<file>', 'the ledger file (e.g. execution-handler-demo.db)')
  .argument('[orderId]', 'an OrderID (ORD_...) to show in full')
  .action(async (file: string, orderId: string | undefined) => {
    process.exitCode = await printHistory(file, orderId, process.stdout, process.stderr);
  });

program
  .command('inspect')
  .description(
    'Serve the local state inspector for a SQLite ledger file: the order state chart with the number of orders in each ' +
      "state, a filterable list of orders, and each order's timeline and causality chain. Listens on 127.0.0.1 only, " +
      'unless told otherwise with --host and --expose; exposed, every request needs a token. Read-only.',
  )
  .addOption(new Option('-l, --ledger <file>', 'the SQLite ledger file').default('execution-handler-demo.db'))
  .addOption(
    new Option('-p, --port <port>', 'port (0: any free one)').default(4600).argParser(integer('--port', 0, 65_535)),
  )
  .addOption(new Option('--host <address>', 'address to listen on').default('127.0.0.1'))
  .addOption(
    new Option(
      '--expose',
      'allow a non-loopback --host; every request then needs a token, generated and printed in the address unless given',
    ),
  )
  .addOption(
    new Option(
      '--token <token>',
      `the token requests must carry (16+ characters of A-Z a-z 0-9 . _ ~ -), also on loopback; or set ${INSPECTOR_TOKEN_ENV}, which ps does not show`,
    ),
  )
  .addOption(new Option('--allow-host <name...>', 'host names, besides loopback ones, that requests may use'))
  .addHelpText(
    'after',
    '\nExamples:\n  execution-handler inspect                                  this machine only, no token\n' +
      '  execution-handler inspect --host 0.0.0.0 --expose --allow-host trading-box\n' +
      '                                                             on the network; prints http://…/?token=…\n',
  )
  .action(async (o: Record<string, unknown>) => {
    const token = givenToken(o.token as string | undefined, process.env);
    try {
      process.exitCode = await runInspect(
        o.ledger as string,
        {
          port: o.port as number,
          host: o.host as string,
          exposeOnNetwork: o.expose === true,
          allowedHosts: (o.allowHost as string[] | undefined) ?? [],
          ...(token === undefined ? {} : { token }),
        },
        process.stdout,
        process.stderr,
      );
    } catch (err) {
      if (!(err instanceof InspectorOptionsError || isAddressInUse(err))) throw err;
      process.stderr.write(`error: ${(err as Error).message}\n`);
      process.exitCode = 2;
    }
  });

/** A port already taken is the user's to fix: one line, no stack. */
function isAddressInUse(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'EADDRINUSE';
}

await program.parseAsync(process.argv);
