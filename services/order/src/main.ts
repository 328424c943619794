import { main } from '@oms/platform';
import { orderService } from './service.ts';

main(orderService);
