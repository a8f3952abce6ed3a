import { render } from 'preact';
import { Inbox } from './inbox.tsx';

render(<Inbox />, document.getElementById('app')!);
