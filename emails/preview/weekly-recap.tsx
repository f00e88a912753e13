import { demoEdition, demoFrame } from '../fixtures/demo-edition.ts';
import WeeklyRecap, { type Props } from '../weekly-recap.tsx';

/**
 * The weekly recap as `npm run email:dev` previews it: the view of ../weekly-recap.tsx with the demo
 * edition as its PreviewProps. Only the preview loads the demo fixture; the sender imports the view.
 */
export default function WeeklyRecapPreview(props: Props) {
  return <WeeklyRecap {...props} />;
}

WeeklyRecapPreview.PreviewProps = {
  edition: demoEdition(),
  frame: demoFrame,
  personal: {
    greeting: 'Hi Anna,',
    unsubscribeUrl: `${demoFrame.publicUrl}/u/preview`,
    preferencesUrl: `${demoFrame.publicUrl}/p/preview`,
    pixelUrl: null,
  },
} satisfies Props;
