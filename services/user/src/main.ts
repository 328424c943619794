import { main } from '@oms/platform';
import { userService } from './service.ts';

main(userService);
