import { describe, expect, it } from 'vitest'
import { Gate } from './gate.ts'

describe('Gate', () => {
  it('admits up to its limit and hands a released slot to the next waiter in order', async () => {
    const gate = new Gate(2)
    const a = await gate.acquire()
    const b = await gate.acquire()
    const order: string[] = []
    const c = gate.acquire().then((r) => (order.push('c'), r))
    const d = gate.acquire().then((r) => (order.push('d'), r))
    await new Promise((r) => setTimeout(r, 5))
    expect(order).toEqual([])
    a()
    a() // releasing twice frees one slot only
    const releaseC = await c
    expect(order).toEqual(['c'])
    b()
    await d
    expect(order).toEqual(['c', 'd'])
    releaseC()
  })

  it('stops waiting when the abort signal fires and does not take a slot', async () => {
    const gate = new Gate(1)
    const held = await gate.acquire()
    const controller = new AbortController()
    const waiting = gate.acquire(controller.signal)
    controller.abort(new Error('run cancelled'))
    await expect(waiting).rejects.toThrow('run cancelled')
    held()
    const next = await gate.acquire()
    next()
  })
})
