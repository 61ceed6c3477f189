/**
 * execution-handler: the public API, listed by name (contract section 1).
 */
export { orderMachine, NOT_FOUND_AT_VENUE } from './machines/order.js';
export type { OrderContext, OrderEvent, OrderMachineInput } from './machines/order.js';
export { createExecutionHandler } from './src/handler/create.js';
export type { ExecutionHandler } from './src/handler/create.js';
export type { HandlerOptions, InspectionObserver } from './src/handler/options.js';
export { createManualClock, systemClock } from './src/clock.js';
export type { Clock, ManualClock } from './src/clock.js';
export { cryptoRandom, seededRandom } from './src/random.js';
export type { RandomSource } from './src/random.js';
export {
  ValidationError,
  PlacementRejectedError,
  ModifyUnsupportedError,
  LedgerIntegrityError,
  LedgerFencedError,
} from './src/errors.js';
export { createStrategyCache } from './src/cache.js';
export type { StrategyCache, StrategyCacheOptions } from './src/cache.js';
export { createMemoryLedger } from './src/ledger/memory.js';
export { openSqliteLedger } from './src/ledger/sqlite.js';
export type { SqliteLedger, SqliteLedgerOptions } from './src/ledger/sqlite.js';
export { connectPostgresLedger, LeaseHeldError } from './src/ledger/postgres.js';
export type { PostgresLedger, PostgresLedgerOptions } from './src/ledger/postgres.js';
export type { MemoryLedgerOptions } from './src/ledger/memory.js';
export { recordOrder, updateOrderFill, updateOrderRejection } from './src/ledger/helpers.js';
export type {
  AnomalyRecord,
  BatchInfo,
  ChangeInput,
  LedgerEventType,
  LedgerListener,
  LedgerOrder,
  LedgerUpdatedEvent,
  LedgerWrite,
  OrderListPage,
  OrderListQuery,
  OrderRecordInput,
  StrategyLedger,
  TransitionRecord,
} from './src/ledger/types.js';
export { startInspector, InspectorOptionsError, machineGraph } from './src/inspector/server.js';
export type { Inspector, InspectorOptions, InspectorRefusal } from './src/inspector/server.js';
export { createSimulatedExchange } from './src/connector/simulated.js';
export type {
  SimulatedExchange,
  SimulatedExchangeOptions,
  SimulatedExchangeStats,
  SimulatedFaults,
  VenueOrder,
} from './src/connector/simulated.js';
export type { ExchangeConnector, OrderRef, VenueOrderState } from './src/connector/types.js';
export { createCcxtConnector, binanceDialect, binanceReplace } from './src/connector/ccxt.js';
export type { CcxtConnector, CcxtConnectorOptions, CcxtDialect, CcxtReplaceDialect } from './src/connector/ccxt.js';
export type { LegEvent, LegSnapshot, OrderValues, ReplaceRequest } from './src/connector/replace-tracker.js';
export { throttleConnector } from './src/connector/throttle.js';
export type { ThrottleOptions, ThrottledCall } from './src/connector/throttle.js';
export { binanceSpotBudgets } from './src/connector/rate-budgets.js';
export type { CallCost, CallKind, RateBudgets, RateWindow } from './src/connector/rate-budgets.js';
export { binanceRetryAfterMsOf } from './src/connector/retry-after.js';
export type { RetryAfterMsOf } from './src/connector/retry-after.js';
export { createWaitTally } from './src/connector/wait-tally.js';
export type { WaitCount, WaitTally } from './src/connector/wait-tally.js';
export { startBinanceLocal, binanceLocalUrls, pointCcxtAtLocal } from './src/connector/binance-local.js';
export type { BinanceLocal, BinanceLocalOptions, InjectedFailure, LocalMarket } from './src/connector/binance-local.js';
export { ORDER_STATUSES, FINAL_STATUSES } from './src/types.js';
export type {
  AnomalyKind,
  BatchMode,
  CausalityChain,
  ExchangeReply,
  ExecutionDirective,
  Fill,
  Modification,
  ModifyChanges,
  OrderRequest,
  OrderSide,
  OrderStatus,
  OrderType,
  OrderView,
  OriginType,
  RecoveryReport,
  ReplyOutcome,
  TimeInForce,
} from './src/types.js';
