import { describe, expect, it } from 'vitest'
import { assignableRoles, chooseProject, projectAllows, roleFor } from './access.ts'

describe('projectAllows', () => {
  it('follows the role ladder viewer < editor < admin < owner', () => {
    expect(projectAllows('viewer', 'read')).toBe(true)
    expect(projectAllows('viewer', 'write')).toBe(false)
    expect(projectAllows('editor', 'write')).toBe(true)
    expect(projectAllows('editor', 'admin')).toBe(false)
    expect(projectAllows('admin', 'admin')).toBe(true)
    expect(projectAllows('admin', 'owner')).toBe(false)
    expect(projectAllows('owner', 'owner')).toBe(true)
  })

  it('reads token roles by scope, and a token is never an owner', () => {
    expect(projectAllows('token:run', 'write')).toBe(true)
    expect(projectAllows('token:read', 'write')).toBe(false)
    expect(projectAllows('token:admin', 'admin')).toBe(true)
    expect(projectAllows('token:admin', 'owner')).toBe(false)
  })

  it('grants nothing without a known role', () => {
    expect(projectAllows(null, 'read')).toBe(false)
    expect(projectAllows(undefined, 'read')).toBe(false)
    expect(projectAllows('token:superuser', 'read')).toBe(false)
  })
})

describe('roleFor', () => {
  it('names the least role with a permission', () => {
    expect(roleFor('read')).toBe('viewer')
    expect(roleFor('write')).toBe('editor')
    expect(roleFor('admin')).toBe('admin')
    expect(roleFor('owner')).toBe('owner')
  })
})

describe('assignableRoles', () => {
  it('lets owners give every role and admins every role but owner', () => {
    expect(assignableRoles('owner')).toEqual(['owner', 'admin', 'editor', 'viewer'])
    expect(assignableRoles('admin')).toEqual(['admin', 'editor', 'viewer'])
  })

  it('offers nothing to editors and viewers', () => {
    expect(assignableRoles('editor')).toEqual([])
    expect(assignableRoles('viewer')).toEqual([])
    expect(assignableRoles(null)).toEqual([])
  })
})

describe('chooseProject', () => {
  const projects = [
    { id: 'a', name: 'Alpha', role: 'owner' as const },
    { id: 'b', name: 'Beta', role: 'viewer' as const },
  ]

  it('keeps the remembered project while the user still belongs to it', () => {
    expect(chooseProject(projects, 'b')).toBe('b')
  })

  it('falls back to the first project', () => {
    expect(chooseProject(projects, 'gone')).toBe('a')
    expect(chooseProject(projects, null)).toBe('a')
  })

  it('has nothing to choose without projects', () => {
    expect(chooseProject([], 'a')).toBeNull()
  })
})
