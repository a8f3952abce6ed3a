import { render } from 'preact';
import { MessageView } from './message-view.tsx';

const id = Number(new URLSearchParams(location.search).get('id'));
render(<MessageView id={id} />, document.getElementById('app')!);
