import type { FailureReason } from '@oms/contracts';

export interface UserStanding {
  id: string;
  active: boolean;
}

/** May this user place an order? Pure: the saga step's decision. */
export function validateUserForOrder(userId: string, user: UserStanding | undefined): FailureReason[] {
  if (!user) return [{ code: 'USER_NOT_FOUND', message: `user ${userId} does not exist` }];
  if (!user.active) return [{ code: 'USER_INACTIVE', message: `user ${userId} is inactive` }];
  return [];
}
