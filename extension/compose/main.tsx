import { render } from 'preact';
import { Composer } from './composer.tsx';

// compose.html?id=N reopens draft N (or shows sent message N read-only); no id: a new message.
const id = Number(new URLSearchParams(location.search).get('id'));
render(<Composer id={Number.isSafeInteger(id) && id > 0 ? id : null} />, document.getElementById('app')!);
