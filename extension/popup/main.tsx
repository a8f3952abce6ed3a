import { render } from 'preact';
import { Popup } from './popup.tsx';

render(<Popup />, document.getElementById('app')!);
