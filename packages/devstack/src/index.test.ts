import { describe, expect, it } from 'vitest'
import { PLATFORM_LOOPBACK_HOST } from '@stampede/shared/targets'
import { embeddedServicesHost } from './index.ts'

describe('embeddedServicesHost', () => {
  it("defaults to the platform's reserved loopback address on Linux, and 127.0.0.1 elsewhere", () => {
    expect(embeddedServicesHost({}, 'linux')).toBe(PLATFORM_LOOPBACK_HOST)
    expect(embeddedServicesHost({}, 'linux')).toBe('127.77.0.1')
    expect(embeddedServicesHost({ EMBEDDED_SERVICES_HOST: '  ' }, 'linux')).toBe('127.77.0.1')
    expect(embeddedServicesHost({}, 'darwin')).toBe('127.0.0.1')
    expect(embeddedServicesHost({}, 'win32')).toBe('127.0.0.1')
  })

  it('takes EMBEDDED_SERVICES_HOST when set', () => {
    expect(embeddedServicesHost({ EMBEDDED_SERVICES_HOST: '127.77.0.9' }, 'linux')).toBe('127.77.0.9')
    expect(embeddedServicesHost({ EMBEDDED_SERVICES_HOST: '127.0.0.1' }, 'linux')).toBe('127.0.0.1')
    expect(embeddedServicesHost({ EMBEDDED_SERVICES_HOST: '127.77.0.1' }, 'darwin')).toBe('127.77.0.1')
  })

  it('refuses what is not an IP address, naming the variable and a fix', () => {
    expect(() => embeddedServicesHost({ EMBEDDED_SERVICES_HOST: 'localhost' }, 'linux')).toThrow(
      'EMBEDDED_SERVICES_HOST: "localhost" is not an IP address; set an address in 127.77.0.0/16 such as 127.77.0.1 (reserved for the platform, out of k6\'s reach), or unset it for the default',
    )
  })
})
