// The options every Temporal connection of the platform (the API's client, a runner's workers and
// client) is made with, from TemporalSettings: address, TLS (with an mTLS client certificate and a
// CA when given) and an API key. Server-side only: it reads the certificate files.
import { readFileSync } from 'node:fs'
import type { TemporalSettings } from './platform-config.ts'

export interface TemporalConnectOptions {
  address: string
  tls?: { serverNameOverride?: string; serverRootCACertificate?: Buffer; clientCertPair?: { crt: Buffer; key: Buffer } } | true
  apiKey?: string
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file)
  } catch (err) {
    throw new Error(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
}

export function temporalConnectOptions(settings: TemporalSettings): TemporalConnectOptions {
  const { tls } = settings
  const options: TemporalConnectOptions = { address: settings.address }
  if (tls) {
    const custom = {
      ...(tls.serverName ? { serverNameOverride: tls.serverName } : {}),
      ...(tls.caFile ? { serverRootCACertificate: readPem(tls.caFile, 'TEMPORAL_TLS_CA') } : {}),
      ...(tls.certFile && tls.keyFile ? { clientCertPair: { crt: readPem(tls.certFile, 'TEMPORAL_TLS_CERT'), key: readPem(tls.keyFile, 'TEMPORAL_TLS_KEY') } } : {}),
    }
    options.tls = Object.keys(custom).length > 0 ? custom : true
  }
  if (settings.apiKey) options.apiKey = settings.apiKey
  return options
}
