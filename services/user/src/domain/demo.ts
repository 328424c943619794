/** Demo users inserted by `npm start` (OMS_DEMO_DATA). Fixed ids so the README's curl lines work. */
export const demoUsers = [
  { id: '00000000-0000-4000-8000-000000000001', name: 'Ada Lovelace', email: 'ada@example.com', active: true },
  { id: '00000000-0000-4000-8000-000000000002', name: 'Grace Hopper', email: 'grace@example.com', active: true },
  { id: '00000000-0000-4000-8000-000000000003', name: 'Inactive Ian', email: 'ian@example.com', active: false },
] as const;
