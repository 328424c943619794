import { main } from '@oms/platform';
import { inventoryService } from './service.ts';

main(inventoryService);
