// @stampede/sdk: a typed client for the Stampede API (types inferred from its AppRouter) with
// helpers to follow a run's console, wait for its result and run a script end to end.
export { createStampedeClient, type StampedeClient, type StampedeClientOptions, type StampedeHelpers, type WaitForRunOptions, type RunScriptInput, type RunScriptOptions } from './client.ts'
export type { ConsoleConnectionState, ConsoleEvent, ConsoleFillEvent, ConsoleLinesEvent, ConsoleMetricsEvent, FollowConsoleOptions, FollowMetricsOptions, MetricsEvent } from './console.ts'
export { sha256Hex, uploadFiles, uploadBlob, type FileUpload, type FileRef, type FilesApi, type StoredFile, type UploadFileOptions, type UploadFilesInput, type UploadFilesResult } from './files.ts'
export { StampedeError, StampedeApiError, StampedeConnectionError, StampedeConsoleError, StampedeVersionError, StampedeWaitTimeoutError } from './errors.ts'
export { SDK_VERSION, API_COMPAT, compareWithApi, parseVersion, type VersionVerdict } from './version.ts'
export type { ApiVersionInfo } from '@stampede/shared'
export type { AppRouter, RouterInputs, RouterOutputs, Run, RunPage, Test, Location, Job, RunStartInput, RunListInput, RunMetrics, RunMetricsInput, RunMetricSeries, ScriptValidation } from './types.ts'
export type { WebSocketClass, WebSocketLike } from './websocket.ts'
export { RUN_STATUSES, isTerminal, type RunStatus } from '@stampede/shared'
